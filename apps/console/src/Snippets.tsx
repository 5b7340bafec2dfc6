import { useState } from 'react';
import { curlSnippet, datagenSnippet, snippetSource, withpiSnippet } from './exporting';
import type { JobRequest } from './types';

const KINDS = [
  { id: 'curl', label: 'curl', make: curlSnippet },
  { id: 'withpi', label: 'withpi (TypeScript)', make: withpiSnippet },
  { id: 'datagen', label: 'datagen CLI', make: datagenSnippet },
] as const;
type Kind = (typeof KINDS)[number]['id'];

/** Copies text; outside a secure context (plain http on another host) through a hidden text area. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

/** "Copy as curl / withpi / datagen": the request that reproduces the job, against this server. */
export function Snippets({ request, numInputs }: { request: JobRequest | null; numInputs: number }) {
  const [kind, setKind] = useState<Kind>('curl');
  const [copied, setCopied] = useState<string | null>(null);
  const source = snippetSource(request, numInputs);
  const chosen = KINDS.find((k) => k.id === kind)!;
  const text = chosen.make(window.location.origin, source.request);

  return (
    <section aria-labelledby="snippets-title">
      <h2 id="snippets-title">Reproduce this job</h2>
      {source.known ? (
        <p className="muted">The request this browser tab sent for the job. Set <code>DATAGEN_API_KEY</code> to your key first.</p>
      ) : (
        <p className="notice">
          This job was not created in this browser tab, and the API does not return a job's request: only the number of inputs
          ({numInputs}) is the job's own. The description and seeds below are placeholders, and the options are left to their defaults.
        </p>
      )}
      <fieldset className="segmented">
        <legend className="visually-hidden">Snippet format</legend>
        {KINDS.map((k) => (
          <label key={k.id} className={k.id === kind ? 'on' : undefined}>
            <input type="radio" name="snippet-kind" value={k.id} checked={k.id === kind} onChange={() => { setKind(k.id); setCopied(null); }} />
            {k.label}
          </label>
        ))}
      </fieldset>
      <pre className="snippet" tabIndex={0} aria-label={`${chosen.label} snippet`} data-testid="snippet"><code>{text}</code></pre>
      <div className="actions">
        <button type="button" onClick={() => void copyText(text).then((ok) => setCopied(ok ? `Copied the ${chosen.label} snippet.` : 'Could not copy: select the text and copy it.'))}>
          Copy as {chosen.label}
        </button>
        <span role="status" className="muted">{copied}</span>
      </div>
    </section>
  );
}
