import { useId, useRef, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { ApiError } from './api';
import { describeError, useApi } from './context';
import { parseSeeds, seedsFromLines, SeedsError, type Seeds } from './seeds';
import { saveRequest } from './session';
import { EXPLORATION_MODES, type ExplorationMode, type JobRequest, type ValidationIssue } from './types';

const MODE_HINTS: Record<ExplorationMode, string> = {
  CONSERVATIVE: 'the same topics, tone, length and format as the examples, with different specifics',
  BALANCED: 'the same kind of requests, with varied topics, situations and phrasing',
  CREATIVE: 'new topics, user situations, lengths and formats, still realistic',
  ADVENTUROUS: 'the edges: unusual requests, edge cases, unexpected formats, demanding users',
};

/** The request's fields in the form's order (the first in trouble gets the focus). */
const FIELDS = [
  'application_description',
  'num_inputs_to_generate',
  'seeds',
  'dataset',
  'batch_size',
  'num_shots',
  'exploration_mode',
  'run_parallel_batches',
  'economy',
  'webhook_url',
  'webhook_progress',
] as const;
type Field = (typeof FIELDS)[number];
const LABELS: Record<Field, string> = {
  application_description: 'Application description',
  num_inputs_to_generate: 'Number of inputs to generate',
  seeds: 'Seeds',
  batch_size: 'Batch size',
  num_shots: 'Examples per prompt (num_shots)',
  exploration_mode: 'Exploration mode',
  run_parallel_batches: 'Run batches in parallel',
  dataset: 'Dataset',
  economy: 'Economy mode (half price, slower)',
  webhook_url: 'Webhook URL',
  webhook_progress: 'Webhook progress events',
};

/** A number field as the API gets it: left out when empty (the API then says it is missing, or uses its default). */
function numberOrUndefined(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return Number.isNaN(n) ? (trimmed as unknown as number) : n; // not a number: sent as is, for the API to say so
}

/** A text field as the API gets it: left out when empty (the API's default), else as typed but for edge spaces. */
function textOrUndefined(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The new-job form: every field of the request. The API validates it (the
 * form does not second-guess it) and its 422 problems are shown by their
 * fields; seeds are pasted one a line or loaded from a file in any format
 * the CLI reads.
 */
export function NewJob({ onCreated }: { onCreated: (jobId: string) => void }) {
  const ctx = useApi();
  const [description, setDescription] = useState('');
  const [numInputs, setNumInputs] = useState('50');
  const [seedText, setSeedText] = useState('');
  const [seedFile, setSeedFile] = useState<Seeds | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [batchSize, setBatchSize] = useState('5');
  const [numShots, setNumShots] = useState('5');
  const [mode, setMode] = useState<ExplorationMode>('BALANCED');
  const [parallel, setParallel] = useState(true);
  const [dataset, setDataset] = useState('');
  // Undefined until the user touches the box: the request then leaves the field to the server's default.
  const [economy, setEconomy] = useState<boolean | undefined>(undefined);
  const [webhookUrl, setWebhookUrl] = useState('');
  const [webhookProgress, setWebhookProgress] = useState<boolean | undefined>(undefined);
  const [errors, setErrors] = useState<Partial<Record<Field | 'form', string[]>>>({});
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const summary = useRef<HTMLDivElement>(null);
  const uid = useId();
  const errorId = (field: Field) => `${uid}-${field}-error`;

  const pasted = seedsFromLines(seedText);
  const seeds = seedFile ?? { file: 'the pasted seeds', ...pasted };

  async function loadFile(file: File | undefined) {
    setFileError(null);
    if (!file) return;
    try {
      const loaded = parseSeeds(file.name, await file.text());
      setSeedFile(loaded);
    } catch (e) {
      setSeedFile(null);
      setFileError(e instanceof SeedsError ? e.message : `Cannot read ${file.name}: ${(e as Error).message}`);
      if (fileInput.current) fileInput.current.value = '';
    }
  }

  function dropFile() {
    setSeedFile(null);
    setFileError(null);
    if (fileInput.current) fileInput.current.value = '';
  }

  /** 422 problems by field; a seed's problem names its line (or item) of the file or the pasted text. */
  function byField(issues: ValidationIssue[]): Partial<Record<Field | 'form', string[]>> {
    const out: Partial<Record<Field | 'form', string[]>> = {};
    for (const issue of issues) {
      const [where, name, index] = issue.loc;
      const field = where === 'body' && typeof name === 'string' && (FIELDS as readonly string[]).includes(name) ? (name as Field) : 'form';
      let msg = issue.msg;
      if (field === 'seeds' && typeof index === 'number') msg = `Seed ${index + 1} (${seeds.origins[index] ?? '?'} of ${seeds.file}): ${msg}`;
      if (field === 'form') msg = `${issue.loc.join('.')}: ${msg}`;
      (out[field] ??= []).push(msg);
    }
    return out;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const request: JobRequest = {
      application_description: description,
      num_inputs_to_generate: numberOrUndefined(numInputs) as number,
      seeds: seeds.seeds,
      batch_size: numberOrUndefined(batchSize),
      num_shots: numberOrUndefined(numShots),
      exploration_mode: mode,
      run_parallel_batches: parallel,
    };
    // Fields the user left alone are not sent: the server's defaults apply.
    const named = textOrUndefined(dataset);
    if (named !== undefined) request.dataset = named;
    if (economy !== undefined) request.economy = economy;
    const webhook = textOrUndefined(webhookUrl);
    if (webhook !== undefined) request.webhook_url = webhook;
    if (webhookProgress !== undefined) request.webhook_progress = webhookProgress;
    setBusy(true);
    setErrors({});
    try {
      const status = await ctx.api.create(request);
      saveRequest(status.job_id, JSON.parse(JSON.stringify(request)) as JobRequest);
      onCreated(status.job_id);
    } catch (e) {
      const found = e instanceof ApiError && e.status === 422 ? byField(e.issues) : { form: [describeError(e, ctx)] };
      setErrors(found);
      // Focus the first field in trouble, else the summary.
      requestAnimationFrame(() => {
        const first = FIELDS.find((f) => found[f]);
        const target = first ? document.getElementById(`${uid}-${first}`) : summary.current;
        target?.focus();
      });
    } finally {
      setBusy(false);
    }
  }

  /** A control's invalid state, and what describes it: its hint (when it has one), then its errors. */
  const invalid = (field: Field, hint?: string) => {
    const describedBy = [hint ?? '', errors[field] ? errorId(field) : ''].join(' ').trim();
    return { ...(errors[field] ? { 'aria-invalid': true } : {}), ...(describedBy ? { 'aria-describedby': describedBy } : {}) };
  };
  const fieldErrors = (field: Field): ReactNode =>
    errors[field] && (
      <ul id={errorId(field)} className="field-error">
        {errors[field]!.map((msg, i) => (
          <li key={i}>{msg}</li>
        ))}
      </ul>
    );
  /** An optional one-line text field: its label, hint, input and errors (empty: not sent). */
  const optionalText = (field: Field, hint: ReactNode, value: string, set: (value: string) => void, attributes: InputHTMLAttributes<HTMLInputElement>) => (
    <>
      <label htmlFor={`${uid}-${field}`}>{LABELS[field]} <span className="optional">(optional)</span></label>
      <p className="hint" id={`${uid}-${field}-hint`}>{hint}</p>
      <input id={`${uid}-${field}`} spellCheck={false} {...attributes} value={value} onChange={(e) => set(e.target.value)} {...invalid(field, `${uid}-${field}-hint`)} />
      {fieldErrors(field)}
    </>
  );
  const problemCount = Object.values(errors).reduce((n, list) => n + (list?.length ?? 0), 0);

  return (
    <section aria-labelledby="new-title">
      <h1 id="new-title" tabIndex={-1}>New job</h1>
      <div ref={summary} tabIndex={-1} role="alert" className={problemCount ? 'error-summary' : undefined}>
        {problemCount > 0 && (
          <>
            <p>
              The API did not take the job: {problemCount} problem{problemCount === 1 ? '' : 's'}, shown by {problemCount === 1 ? 'its field' : 'their fields'}.
            </p>
            {errors.form && (
              <ul>
                {errors.form.map((msg, i) => (
                  <li key={i}>{msg}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      <form className="card form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${uid}-application_description`}>{LABELS.application_description}</label>
          <p className="hint" id={`${uid}-description-hint`}>What your LLM application does; the generated inputs are inputs to it.</p>
          <textarea
            id={`${uid}-application_description`}
            rows={3}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            {...invalid('application_description', `${uid}-description-hint`)}
          />
          {fieldErrors('application_description')}
        </div>

        <div className="field">
          <label htmlFor={`${uid}-num_inputs_to_generate`}>{LABELS.num_inputs_to_generate}</label>
          <input id={`${uid}-num_inputs_to_generate`} type="number" inputMode="numeric" min={1} value={numInputs} onChange={(e) => setNumInputs(e.target.value)} {...invalid('num_inputs_to_generate')} />
          {fieldErrors('num_inputs_to_generate')}
        </div>

        <fieldset className="field">
          <legend>{LABELS.seeds}</legend>
          <p className="hint" id={`${uid}-seeds-hint`}>
            Example inputs, one a line; or load a file in any format the CLI reads: one a line, a JSON array of strings, or JSON Lines of
            strings or of {'{"input": …}'} objects. Leave empty to let the job write its own first examples.
          </p>
          {seedFile === null ? (
            <>
              <label htmlFor={`${uid}-seeds`} className="visually-hidden">Seeds, one a line</label>
              <textarea
                id={`${uid}-seeds`}
                rows={5}
                value={seedText}
                onChange={(e) => setSeedText(e.target.value)}
                {...invalid('seeds', `${uid}-seeds-hint`)}
              />
              <p className="muted">{pasted.seeds.length} seed{pasted.seeds.length === 1 ? '' : 's'}</p>
            </>
          ) : (
            <div className="seed-file" id={`${uid}-seeds`} tabIndex={-1}>
              <p>
                <strong>{seedFile.seeds.length}</strong> seed{seedFile.seeds.length === 1 ? '' : 's'} from <code>{seedFile.file}</code>{' '}
                <button type="button" onClick={dropFile}>Remove the file</button>
              </p>
              <details>
                <summary>Show them</summary>
                <ol>
                  {seedFile.seeds.slice(0, 200).map((seed, i) => (
                    <li key={i}>{seed}</li>
                  ))}
                </ol>
                {seedFile.seeds.length > 200 && <p className="muted">and {seedFile.seeds.length - 200} more</p>}
              </details>
            </div>
          )}
          <label htmlFor={`${uid}-seed-file`}>Load seeds from a file</label>
          <input ref={fileInput} id={`${uid}-seed-file`} type="file" accept=".txt,.json,.jsonl,.ndjson,text/plain,application/json" onChange={(e) => void loadFile(e.target.files?.[0])} aria-describedby={fileError ? `${uid}-file-error` : undefined} />
          {fileError && <p id={`${uid}-file-error`} className="field-error" role="alert">{fileError}</p>}
          {fieldErrors('seeds')}
        </fieldset>

        <div className="field">
          {optionalText(
            'dataset',
            <>
              A dataset of this API key to add the inputs to: none repeats an input it already holds, from any job of it. Created by its
              first job. 1 to 100 letters, digits, <code>_</code> <code>.</code> or <code>-</code>, starting with a letter or digit.
            </>,
            dataset,
            setDataset,
            { type: 'text', autoComplete: 'off', autoCapitalize: 'none' },
          )}
        </div>

        <div className="row">
          <div className="field">
            <label htmlFor={`${uid}-batch_size`}>{LABELS.batch_size}</label>
            <p className="hint">Inputs asked for in one LLM call, 1 to 10.</p>
            <input id={`${uid}-batch_size`} type="number" inputMode="numeric" min={1} max={10} value={batchSize} onChange={(e) => setBatchSize(e.target.value)} {...invalid('batch_size')} />
            {fieldErrors('batch_size')}
          </div>
          <div className="field">
            <label htmlFor={`${uid}-num_shots`}>{LABELS.num_shots}</label>
            <p className="hint">Examples shown in each prompt, 1 to 10.</p>
            <input id={`${uid}-num_shots`} type="number" inputMode="numeric" min={1} max={10} value={numShots} onChange={(e) => setNumShots(e.target.value)} {...invalid('num_shots')} />
            {fieldErrors('num_shots')}
          </div>
        </div>

        <div className="field">
          <label htmlFor={`${uid}-exploration_mode`}>{LABELS.exploration_mode}</label>
          <select id={`${uid}-exploration_mode`} value={mode} onChange={(e) => setMode(e.target.value as ExplorationMode)} aria-describedby={`${uid}-mode-hint`} {...(errors.exploration_mode ? { 'aria-invalid': true } : {})}>
            {EXPLORATION_MODES.map((m) => (
              <option key={m} value={m}>{m}</option>
            ))}
          </select>
          <p className="hint" id={`${uid}-mode-hint`}>The prompt asks for {MODE_HINTS[mode]}.</p>
          {fieldErrors('exploration_mode')}
        </div>

        <div className="field check">
          <input id={`${uid}-run_parallel_batches`} type="checkbox" checked={parallel} onChange={(e) => setParallel(e.target.checked)} {...invalid('run_parallel_batches')} />
          <label htmlFor={`${uid}-run_parallel_batches`}>{LABELS.run_parallel_batches}</label>
          <p className="hint">On: several batches of the job in flight at once. Off: one batch at a time.</p>
          {fieldErrors('run_parallel_batches')}
        </div>

        <div className="field check">
          <input id={`${uid}-economy`} type="checkbox" checked={economy ?? false} onChange={(e) => setEconomy(e.target.checked)} {...invalid('economy', `${uid}-economy-hint`)} />
          <label htmlFor={`${uid}-economy`}>{LABELS.economy}</label>
          <p className="hint" id={`${uid}-economy-hint`}>
            Sends the job's requests through the LLM provider's batch API, at half the price; the job then takes minutes to hours
            instead of seconds. Not the batch size above (inputs per LLM call). Needs a provider with a batch API. Left alone: the
            server's default.
          </p>
          {fieldErrors('economy')}
        </div>

        <div className="field">
          {optionalText(
            'webhook_url',
            <>
              Where the server POSTs signed events about this job (Standard Webhooks): when it ends, done, failed or cancelled. Empty:
              the server's default for your key, if it has one.
            </>,
            webhookUrl,
            setWebhookUrl,
            { type: 'url', inputMode: 'url', autoComplete: 'url', placeholder: 'https://' },
          )}
          <div className="field check nested">
            <input id={`${uid}-webhook_progress`} type="checkbox" checked={webhookProgress ?? false} onChange={(e) => setWebhookProgress(e.target.checked)} {...invalid('webhook_progress', `${uid}-webhook_progress-hint`)} />
            <label htmlFor={`${uid}-webhook_progress`}>{LABELS.webhook_progress}</label>
            <p className="hint" id={`${uid}-webhook_progress-hint`}>Also a progress event while the job runs, every few seconds at most.</p>
            {fieldErrors('webhook_progress')}
          </div>
        </div>

        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>{busy ? 'Starting…' : 'Start the job'}</button>
          <a href="#/jobs">Back to the jobs</a>
        </div>
      </form>
    </section>
  );
}
