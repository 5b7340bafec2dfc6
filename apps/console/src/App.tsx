import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { Api } from './api';
import { ApiContext } from './context';
import { JobPage } from './JobPage';
import { JobsList } from './JobsList';
import { NewJob } from './NewJob';
import { forgetSession, savedKey, saveKey } from './session';
import { SignIn } from './SignIn';

/** Routes live in the hash (#/jobs, #/new, #/jobs/ID): the API serves one static page, and reloads keep the place. */
type Route = { page: 'jobs' } | { page: 'new' } | { page: 'job'; id: string };

function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/new') return { page: 'new' };
  const job = /^\/jobs\/([^/?#]+)$/.exec(path);
  if (job) return { page: 'job', id: decodeURIComponent(job[1]!) };
  return { page: 'jobs' };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function navigate(hash: string): void {
  window.location.hash = hash;
}

export function App() {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  const route = useMemo(() => parseRoute(hash), [hash]);
  const [key, setKey] = useState<string | null>(() => savedKey());
  const [signedOutBecause, setSignedOutBecause] = useState<string | null>(null);

  const signIn = useCallback((accepted: string) => {
    saveKey(accepted);
    setSignedOutBecause(null);
    setKey(accepted);
  }, []);
  const signOut = useCallback((because: string | null) => {
    forgetSession();
    setSignedOutBecause(because);
    setKey(null);
  }, []);
  const api = useMemo(() => (key === null ? null : new Api(key)), [key]);
  const context = useMemo(() => (api === null ? null : { api, unauthorized: (detail: string) => signOut(`The API no longer accepts this key (${detail}). Sign in again.`) }), [api, signOut]);

  // Each page moves focus to its heading, so keyboard and screen reader users start at the top of it.
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route, key]);

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.querySelector<HTMLElement>('h1')?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="#/jobs">datagen <span>console</span></a>
        {context && (
          <nav aria-label="Console">
            <a href="#/jobs" aria-current={route.page === 'jobs' ? 'page' : undefined}>Jobs</a>
            <a href="#/new" aria-current={route.page === 'new' ? 'page' : undefined}>New job</a>
            <a href="/docs">API docs</a>
            <button type="button" className="link" onClick={() => signOut(null)}>Sign out</button>
          </nav>
        )}
      </header>
      <main id="main" ref={main}>
        {context === null ? (
          <SignIn onSignedIn={signIn} notice={signedOutBecause} />
        ) : (
          <ApiContext.Provider value={context}>
            {route.page === 'jobs' && <JobsList />}
            {route.page === 'new' && <NewJob onCreated={(id) => navigate(`#/jobs/${encodeURIComponent(id)}`)} />}
            {route.page === 'job' && <JobPage key={route.id} jobId={route.id} />}
          </ApiContext.Provider>
        )}
      </main>
    </>
  );
}
