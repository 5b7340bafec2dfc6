import { useId, useState, type FormEvent } from 'react';
import { Api, ApiError } from './api';

/**
 * Sign in with an API key: one call to the API (a list of one job) tells
 * whether it accepts the key. The key is kept in this tab's sessionStorage
 * only, never in a cookie or localStorage.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const given = key.trim();
    if (given === '') {
      setError('Enter your API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await new Api(given).listJobs({ limit: 1 });
      onSignedIn(given);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError(`The API did not accept this key: ${e.message}`);
      else setError(`Could not sign in: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="signin card" aria-labelledby="signin-title">
      <h1 id="signin-title" tabIndex={-1}>Sign in</h1>
      <p>
        Sign in with an API key of this service (the <code>x-api-key</code> it accepts). The console keeps it in this
        browser tab only, until you sign out or close the tab.
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
        />
        {error && (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
