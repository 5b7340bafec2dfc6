import type { Item, JobRequest } from './types';

/**
 * Downloads and "copy as" snippets, made in the browser from what the API
 * answered. The CSV columns are those of `datagen items --format csv`.
 */

export const ITEM_COLUMNS = [
  'index',
  'input',
  'batch',
  'theme',
  'examples',
  'model',
  'temperature',
  'critic_verdict',
  'critic_reason',
  'nearest_source',
  'nearest_index',
  'nearest_similarity',
  'accepted_at',
] as const;

/** One item a line, as the items endpoint answers it (`?format=jsonl`). */
export function itemsJsonl(items: readonly Item[]): string {
  return items.map((item) => `${JSON.stringify(item)}\n`).join('');
}

export function itemsCsv(items: readonly Item[]): string {
  const rows = items.map((e) => [
    e.index,
    e.input,
    e.batch,
    e.theme,
    e.examples.map((x) => `${x.source}:${x.index}`).join(' '),
    e.model,
    e.temperature,
    e.critic?.verdict,
    e.critic?.reason,
    e.nearest?.source,
    e.nearest?.index,
    e.nearest?.similarity,
    e.accepted_at,
  ]);
  return [ITEM_COLUMNS.join(','), ...rows.map((row) => row.map((v) => (v === null || v === undefined ? '' : csvField(String(v)))).join(','))]
    .map((line) => `${line}\r\n`)
    .join('');
}

/** RFC 4180: quoted when it holds a quote, a comma or a line break (or edge spaces), quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Saves text as a file through a temporary link (nothing leaves the browser). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ------------------------------------------------------------- snippets

/**
 * What a snippet is made from: the job's request when this browser session
 * created it, else only what the status tells (the number of inputs), with
 * placeholders for the rest.
 */
export interface SnippetSource {
  request: JobRequest;
  /** The description, seeds and options are the real ones (false: placeholders). */
  known: boolean;
}

export const PLACEHOLDER_DESCRIPTION = 'DESCRIBE YOUR LLM APPLICATION HERE';

export function snippetSource(stored: JobRequest | null, numInputs: number): SnippetSource {
  if (stored !== null) return { request: stored, known: true };
  return { request: { application_description: PLACEHOLDER_DESCRIPTION, num_inputs_to_generate: numInputs, seeds: ['AN EXAMPLE INPUT'] }, known: false };
}

/** A POSIX shell word: single-quoted, its single quotes as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The optional fields of a request, in the order the snippets show them. */
const OPTIONAL_FIELDS = ['batch_size', 'num_shots', 'exploration_mode', 'run_parallel_batches', 'dataset', 'economy', 'webhook_url', 'webhook_progress'] as const;

/** Fields the withpi SDK's request type does not have: they go through as extra body fields, behind a cast. */
const NOT_IN_WITHPI = ['dataset', 'economy', 'webhook_url', 'webhook_progress'] as const;

/** The request as the API takes it, without fields left to their defaults by the console. */
function body(request: JobRequest): JobRequest {
  const out: Record<string, unknown> = {
    application_description: request.application_description,
    num_inputs_to_generate: request.num_inputs_to_generate,
    seeds: request.seeds,
  };
  for (const field of OPTIONAL_FIELDS) if (request[field] !== undefined) out[field] = request[field];
  return out as unknown as JobRequest;
}

export function curlSnippet(origin: string, request: JobRequest): string {
  return [
    `curl -s ${shellQuote(`${origin}/v1/data/generate`)} \\`,
    `  -H "x-api-key: $DATAGEN_API_KEY" -H 'content-type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify(body(request), null, 2))}`,
  ].join('\n');
}

export function withpiSnippet(origin: string, request: JobRequest): string {
  const args = JSON.stringify(body(request), null, 2);
  const extra = NOT_IN_WITHPI.filter((field) => request[field] !== undefined);
  return [
    `// npm install withpi; export WITHPI_API_KEY=<your key>`,
    `import PiClient from 'withpi';`,
    ``,
    `const client = new PiClient({ baseURL: ${JSON.stringify(`${origin}/v1`)} }); // the key from WITHPI_API_KEY`,
    ...(extra.length === 0
      ? [`const job = await client.data.generate.startJob(${args});`]
      : [
          `// The SDK's types do not have ${extra.join(', ')} yet: they go through as extra body fields.`,
          `const job = await client.data.generate.startJob(${args} as Parameters<typeof client.data.generate.startJob>[0]);`,
        ]),
    `const lines = await client.data.generate.streamData(job.job_id); // returns when the job ends`,
    `const inputs = lines.split('\\n').filter(Boolean).map((line) => JSON.parse(line));`,
  ].join('\n');
}

export function datagenSnippet(origin: string, request: JobRequest): string {
  const lines: string[] = [`export PI_CLIENT_BASE_URL=${shellQuote(`${origin}/v1`)} WITHPI_API_KEY="$DATAGEN_API_KEY"`];
  const hasSeeds = request.seeds.length > 0;
  if (hasSeeds) {
    // JSON Lines keep any seed on one line, line breaks and all; the quoted
    // heredoc delimiter keeps the shell from expanding anything in them.
    lines.push(`cat > seeds.jsonl <<'SEEDS_END'`, ...request.seeds.map((seed) => JSON.stringify(seed)), `SEEDS_END`);
  }
  const args = [`npx datagen generate`, `--description ${shellQuote(request.application_description)}`];
  if (hasSeeds) args.push('--seeds seeds.jsonl');
  args.push(`-n ${request.num_inputs_to_generate}`);
  if (request.exploration_mode !== undefined) args.push(`--mode ${request.exploration_mode}`);
  if (request.batch_size !== undefined) args.push(`--batch-size ${request.batch_size}`);
  if (request.num_shots !== undefined) args.push(`--num-shots ${request.num_shots}`);
  if (request.dataset !== undefined) args.push(`--dataset ${shellQuote(request.dataset)}`);
  if (request.economy === true) args.push('--economy');
  if (request.webhook_url !== undefined) args.push(`--webhook-url ${shellQuote(request.webhook_url)}`);
  if (request.webhook_progress === true) args.push('--webhook-progress');
  args.push('--out data.jsonl');
  const missing = (what: string, instead: string) => lines.push(`# datagen generate has no option for ${what}; ${instead} (use curl for it)`);
  if (request.run_parallel_batches === false) missing('run_parallel_batches: false', 'this runs the batches in parallel');
  if (request.economy === false) missing('economy: false', "this leaves economy mode to the server's default");
  lines.push(args.join(' \\\n  '));
  return lines.join('\n');
}
