import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataGenerationStatus } from 'withpi/resources/shared';
import { call, readStream, sleep, StreamInterrupted, TERMINAL_STATES, type Connection } from './client';
import { CliError, EXIT, fromStatus, toCliError } from './errors';
import { csvField, formatFor, openOutput, openRawOutput, type Format, type Output } from './output';
import { startProgress } from './progress';
import { readSeedsFile, type Seeds } from './seeds';

/** The API's status, with the fields this service adds to the SDK's type. */
type Status = DataGenerationStatus & {
  num_inputs_to_generate?: number;
  num_generated?: number;
  created_at?: string;
  usage?: { input_tokens: number; output_tokens: number; llm_calls: number };
  report?: Report;
};

interface Report {
  generated: number;
  accepted: number;
  rejected: { exact_duplicate: number; near_duplicate: number; filtered: number; bad?: number };
  unusable_answers: number;
  estimated_cost_usd: number | null;
  cost?: {
    estimated_usd: number | null;
    per_1000_accepted_usd: number | null;
    billed_tokens_per_accepted: number | null;
    cache_read_tokens: number;
    cache_write_tokens: number;
    cache_savings_usd: number | null;
    discount_usd: number | null;
    batch_requests: number;
    note: string | null;
  };
  diversity: { distinct_1: number; distinct_2: number; mean_pairwise_similarity: number; compression_ratio: number } | null;
}

/** The job's quality and cost report, as lines for a person. */
export function reportLines(report: Report): string[] {
  const r = report.rejected;
  const lines = [
    `quality:  ${report.accepted} accepted of ${report.generated} generated; rejected: ${r.exact_duplicate} exact duplicates, ${r.near_duplicate} near duplicates, ${r.filtered} filtered, ${r.bad ?? 0} judged bad; ${report.unusable_answers} unusable answers`,
    `cost:     ${costLine(report)}`,
  ];
  const d = report.diversity;
  if (d !== null) {
    lines.push(
      `diversity: distinct-1 ${d.distinct_1.toFixed(3)}, distinct-2 ${d.distinct_2.toFixed(3)}, mean pairwise ROUGE-L ${d.mean_pairwise_similarity.toFixed(3)}, compression ratio ${d.compression_ratio.toFixed(2)}`,
    );
  }
  return lines;
}

/** The cost in one line: the estimate, per 1,000 inputs, tokens per input, the cache and the batch discount. */
function costLine(report: Report): string {
  const c = report.cost;
  if (c === undefined) {
    return report.estimated_cost_usd === null ? 'unknown for this model (set LLM_PRICES)' : `about $${report.estimated_cost_usd.toFixed(4)}`;
  }
  const tokens = `${c.billed_tokens_per_accepted ?? '-'} billed tokens per accepted input; cache: ${c.cache_read_tokens} tokens read, ${c.cache_write_tokens} written`;
  if (c.estimated_usd === null) return `${c.note ?? 'unknown price for this model'}; ${tokens}`;
  const parts = [`about $${c.estimated_usd.toFixed(4)}`];
  if (c.per_1000_accepted_usd !== null) parts.push(`$${c.per_1000_accepted_usd.toFixed(4)} per 1,000 inputs`);
  parts.push(tokens);
  if (c.cache_savings_usd !== null && c.cache_savings_usd !== 0) parts.push(`caching saved $${c.cache_savings_usd.toFixed(4)}`);
  if (c.batch_requests > 0 && c.discount_usd !== null) parts.push(`economy: ${c.batch_requests} batch requests, $${c.discount_usd.toFixed(4)} off`);
  return parts.join('; ');
}

/** Messages for the user go to stderr (stdout may be the data), as `datagen: ...`. */
export function say(message: string): void {
  process.stderr.write(`datagen: ${message}\n`);
}

// ---------------------------------------------------------------------------
// generate

export interface GenerateOptions {
  description: string;
  seeds?: string;
  num: number;
  mode?: string;
  batchSize?: number;
  numShots?: number;
  /** A dataset of the key's: the job repeats none of its inputs, and adds its own. */
  dataset?: string;
  /** Economy mode: the provider's batch API, half price, minutes to hours. */
  economy?: boolean;
  /** Where the server POSTs the job's signed events (its end; progress too with webhookProgress). */
  webhookUrl?: string;
  webhookProgress?: boolean;
  out?: string;
  format?: Format;
  quiet?: boolean;
}

export async function generate(connection: Connection, options: GenerateOptions): Promise<number> {
  // Everything that can be wrong locally is checked before a job exists.
  const seeds = options.seeds === undefined ? undefined : readSeedsFile(options.seeds);
  const format = formatFor(options.format, options.out);
  const output = openOutput(options.out, format);
  const interrupt = new Interrupt();
  const started = Date.now();
  try {
    const job = await call(connection, { describeField: (loc) => seedLocation(loc, seeds) }, (client) =>
      client.data.generate.startJob({
        application_description: options.description,
        num_inputs_to_generate: options.num,
        seeds: seeds?.seeds ?? [],
        ...(options.mode !== undefined ? { exploration_mode: options.mode as 'BALANCED' } : {}),
        ...(options.batchSize !== undefined ? { batch_size: options.batchSize } : {}),
        ...(options.numShots !== undefined ? { num_shots: options.numShots } : {}),
        // An extra body field the SDK passes through as it is.
        ...(options.dataset !== undefined ? ({ dataset: options.dataset } as object) : {}),
        ...(options.economy === true ? ({ economy: true } as object) : {}),
        ...(options.webhookUrl !== undefined ? ({ webhook_url: options.webhookUrl } as object) : {}),
        ...(options.webhookProgress === true ? ({ webhook_progress: true } as object) : {}),
      }),
    );
    const jobId = job.job_id;
    say(`job ${jobId}: generating ${options.num} inputs${seeds !== undefined ? ` from ${seeds.seeds.length} seeds` : ''} into ${output.name} (${format})`);
    if (interrupt.requested) return await cancelAfterInterrupt(connection, jobId, output);

    const progress = startProgress({ total: options.num, quiet: options.quiet });
    const controller = new AbortController();
    interrupt.onInterrupt(() => controller.abort());
    let final: Status;
    try {
      final = await follow(
        connection,
        jobId,
        (input) => {
          output.write(input);
          progress.update(output.count);
        },
        controller.signal,
      );
    } catch (error) {
      if (interrupt.requested) {
        progress.stop();
        return await cancelAfterInterrupt(connection, jobId, output);
      }
      throw error;
    } finally {
      progress.stop();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const written = `${output.count} input${output.count === 1 ? '' : 's'} written to ${output.name}`;
    if (final.state === 'DONE') {
      say(`done: ${written} in ${seconds}s (job ${jobId})`);
      if (final.report !== undefined) for (const line of reportLines(final.report)) say(line);
      return EXIT.ok;
    }
    const why = final.detailed_status.at(-1);
    say(`the job ended ${final.state}${why !== undefined ? `: ${why}` : ''}; ${written} (job ${jobId})`);
    return EXIT.failed;
  } finally {
    interrupt.dispose();
    output.close();
  }
}

/**
 * Follows a job's data stream to its end, handing each input over once.
 * Every connection replays from the start, so after a dropped connection the
 * inputs already handed over are skipped; what a stream may have missed is
 * taken from the final status.
 */
async function follow(connection: Connection, jobId: string, onInput: (input: string) => void, signal: AbortSignal): Promise<Status> {
  let received = 0;
  let failures = 0;
  for (;;) {
    let index = 0;
    try {
      await readStream(
        connection,
        jobId,
        'data',
        (line) => {
          if (line === '' || index++ < received) return;
          received++;
          onInput(decodeLine(line));
        },
        signal,
      );
      failures = 0;
    } catch (error) {
      const transient = error instanceof StreamInterrupted || (error instanceof CliError && error.exitCode === EXIT.unreachable);
      if (!transient || signal.aborted || ++failures > 5) throw error;
    }
    const status = (await call(connection, { jobId }, (client) => client.data.generate.retrieve(jobId, { signal }))) as Status;
    if (TERMINAL_STATES.has(status.state)) {
      for (const input of (status.data ?? []).slice(received)) {
        received++;
        onInput(input);
      }
      return status;
    }
    await sleep(Math.min(5_000, 250 * 2 ** failures));
  }
}

/** A data line is an input as a JSON string; anything else is passed on as it is. */
function decodeLine(line: string): string {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'string' ? value : line;
  } catch {
    return line;
  }
}

async function cancelAfterInterrupt(connection: Connection, jobId: string, output: Output): Promise<number> {
  say(`interrupted: cancelling job ${jobId}`);
  try {
    const answer = await call(connection, { jobId }, (client) => client.data.generate.cancel(jobId));
    say(answer);
    // A running job stops at its worker's next step; what it accepted until then is kept, and written too.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const job = (await call(connection, { jobId }, (client) => client.data.generate.retrieve(jobId))) as Status;
      if (TERMINAL_STATES.has(job.state)) {
        for (const input of (job.data ?? []).slice(output.count)) output.write(input);
        break;
      }
      await sleep(200);
    }
  } catch (error) {
    say(`could not cancel job ${jobId}: ${error instanceof Error ? error.message : String(error)}`);
  }
  say(`${output.count} input${output.count === 1 ? '' : 's'} written to ${output.name}`);
  return EXIT.interrupted;
}

/** A 422 about a seed names the seeds file and the line it came from. */
function seedLocation(loc: Array<string | number>, seeds: Seeds | undefined): string | undefined {
  if (seeds === undefined || loc[0] !== 'body' || loc[1] !== 'seeds') return undefined;
  const index = loc[2];
  if (typeof index !== 'number') return `the seeds file ${seeds.file}`;
  return `the seeds file ${seeds.file}, ${seeds.origins[index] ?? `seed ${index + 1}`}`;
}

/** Ctrl-C: the first asks for a clean stop (cancel the job, keep what arrived); a second one leaves at once. */
class Interrupt {
  requested = false;
  private readonly callbacks: Array<() => void> = [];
  private readonly handler = () => {
    if (this.requested) process.exit(EXIT.interrupted);
    this.requested = true;
    process.stderr.write('\n');
    for (const callback of this.callbacks) callback();
  };

  constructor() {
    process.on('SIGINT', this.handler);
  }

  onInterrupt(callback: () => void): void {
    if (this.requested) callback();
    else this.callbacks.push(callback);
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
  }
}

// ---------------------------------------------------------------------------
// status, list, cancel, stream

/** The cursor of the next page in a list answer's `Link: <...?cursor=C>; rel="next"` header, if any. */
function nextCursor(link: string | null): string | null {
  const url = link === null ? undefined : /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
  return url === undefined ? null : new URL(url, 'http://host').searchParams.get('cursor');
}

export async function status(connection: Connection, jobId: string, options: { json?: boolean }): Promise<number> {
  const job = (await call(connection, { jobId }, (client) => client.data.generate.retrieve(jobId))) as Status;
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [
    `job:      ${job.job_id}`,
    `state:    ${job.state}`,
    `inputs:   ${job.num_generated ?? job.data?.length ?? 0}${job.num_inputs_to_generate !== undefined ? ` of ${job.num_inputs_to_generate}` : ''}`,
  ];
  if (job.created_at !== undefined) lines.push(`created:  ${job.created_at}`);
  if (job.usage !== undefined) {
    lines.push(`usage:    ${job.usage.llm_calls} LLM calls, ${job.usage.input_tokens} input and ${job.usage.output_tokens} output tokens`);
  }
  if (job.report !== undefined) lines.push(...reportLines(job.report));
  lines.push('messages:', ...job.detailed_status.map((m) => `  ${m}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

export async function list(connection: Connection, options: { state?: string; json?: boolean; limit?: number; all?: boolean }): Promise<number> {
  const state = options.state as 'DONE' | undefined;
  // The API answers a page (the newest `limit` jobs) and links the next, older one (Link: rel="next").
  const query: Record<string, string | number> = { ...(state !== undefined && { state }), ...(options.limit !== undefined && { limit: options.limit }) };
  let jobs: Status[] = [];
  for (;;) {
    const { data, response } = await call(connection, {}, (client) => client.data.generate.list(query as { state?: 'DONE' }).withResponse());
    jobs = [...(data as Status[]), ...jobs];
    const cursor = nextCursor(response.headers.get('link'));
    if (options.all !== true || cursor === null) break;
    query.cursor = cursor;
  }
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
    return EXIT.ok;
  }
  if (jobs.length === 0) {
    say(state !== undefined ? `no ${state} jobs` : 'no jobs');
    return EXIT.ok;
  }
  const rows = [
    ['JOB', 'STATE', 'INPUTS', 'CREATED'],
    ...jobs.map((job) => [
      job.job_id,
      job.state,
      `${job.num_generated ?? '?'}/${job.num_inputs_to_generate ?? '?'}`,
      job.created_at ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  process.stdout.write(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  return EXIT.ok;
}

export async function cancel(connection: Connection, jobId: string): Promise<number> {
  const answer = await call(connection, { jobId }, (client) => client.data.generate.cancel(jobId));
  process.stdout.write(`${answer}\n`);
  return EXIT.ok;
}

export async function stream(connection: Connection, jobId: string, options: { messages?: boolean; format?: Format; out?: string }): Promise<number> {
  if (options.messages === true) {
    await readStream(connection, jobId, 'messages', (line) => {
      if (line !== '') process.stdout.write(`${line}\n`);
    });
    return EXIT.ok;
  }
  const output = openOutput(options.out, formatFor(options.format, options.out));
  const interrupt = new Interrupt();
  const controller = new AbortController();
  interrupt.onInterrupt(() => controller.abort());
  try {
    const final = await follow(connection, jobId, (input) => output.write(input), controller.signal);
    if (options.out !== undefined) say(`${output.count} inputs written to ${output.name}; the job is ${final.state}`);
    return EXIT.ok;
  } catch (error) {
    if (interrupt.requested) return EXIT.interrupted; // stop following; the job goes on
    throw error;
  } finally {
    interrupt.dispose();
    output.close();
  }
}

// ---------------------------------------------------------------------------
// items, rejected: inside a job

/** CSV columns of `datagen items` and `datagen rejected`: the JSON flattened. */
const ENTRY_COLUMNS = {
  items: ['index', 'input', 'batch', 'theme', 'examples', 'model', 'temperature', 'critic_verdict', 'critic_reason', 'nearest_source', 'nearest_index', 'nearest_similarity', 'accepted_at'],
  rejected: ['index', 'input', 'reason', 'detail', 'duplicate_source', 'duplicate_index', 'similarity', 'filter', 'batch', 'theme', 'rejected_at'],
} as const;

type Ref = { source: string; index: number; similarity?: number } | null;

function entryRow(what: 'items' | 'rejected', e: Record<string, unknown>): unknown[] {
  if (what === 'items') {
    const critic = e.critic as { verdict: string; reason: string | null } | null;
    const nearest = e.nearest as Ref;
    const examples = (e.examples as Array<{ source: string; index: number }>).map((x) => `${x.source}:${x.index}`).join(' ');
    return [e.index, e.input, e.batch, e.theme, examples, e.model, e.temperature, critic?.verdict, critic?.reason, nearest?.source, nearest?.index, nearest?.similarity, e.accepted_at];
  }
  const of = e.duplicate_of as Ref;
  return [e.index, e.input, e.reason, e.detail, of?.source, of?.index, of?.similarity, e.filter, e.batch, e.theme, e.rejected_at];
}

/** `datagen items ID` / `datagen rejected ID`: every entry, as JSON lines (as the API sends them) or as CSV. */
export async function entries(connection: Connection, jobId: string, what: 'items' | 'rejected', options: { format?: string; out?: string }): Promise<number> {
  const format = options.format ?? (options.out !== undefined && path.extname(options.out).toLowerCase() === '.csv' ? 'csv' : 'jsonl');
  const output = openRawOutput(options.out);
  let count = 0;
  try {
    if (format === 'csv') output.write(`${ENTRY_COLUMNS[what].join(',')}\r\n`);
    await readStream(connection, jobId, `${what}?format=jsonl`, (line) => {
      if (line === '') return;
      count++;
      if (format !== 'csv') return output.write(`${line}\n`);
      const row = entryRow(what, JSON.parse(line) as Record<string, unknown>);
      output.write(`${row.map((v) => (v === null || v === undefined ? '' : csvField(String(v)))).join(',')}\r\n`);
    });
  } finally {
    output.close();
  }
  if (options.out !== undefined) say(`${count} ${what === 'items' ? 'inputs' : 'rejected candidates'} written to ${options.out}`);
  return EXIT.ok;
}

// ---------------------------------------------------------------------------
// datasets

/** GET/DELETE a /datasets route with the key; answers the JSON, or throws the CLI error for its status. */
async function datasetsCall(connection: Connection, method: 'GET' | 'DELETE', route: string, dataset?: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${connection.baseURL}${route}`, { method, headers: { 'x-api-key': connection.apiKey } });
  } catch (error) {
    throw toCliError(error, { baseURL: connection.baseURL });
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) throw fromStatus(res.status, (body as { detail?: unknown } | null)?.detail, { baseURL: connection.baseURL, dataset });
  return body;
}

/** `datagen datasets`: the key's datasets. */
export async function datasets(connection: Connection, options: { json?: boolean }): Promise<number> {
  const list = (await datasetsCall(connection, 'GET', '/datasets')) as Array<{ name: string; items: number; jobs: number; unfinished_jobs: number; updated_at: string | null }>;
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.ok;
  }
  if (list.length === 0) {
    say('no datasets');
    return EXIT.ok;
  }
  const rows = [['DATASET', 'INPUTS', 'JOBS', 'UPDATED'], ...list.map((d) => [d.name, String(d.items), `${d.jobs}${d.unfinished_jobs > 0 ? ` (${d.unfinished_jobs} running)` : ''}`, d.updated_at ?? ''])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  process.stdout.write(rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  return EXIT.ok;
}

/** `datagen dataset export NAME`: its inputs as JSON lines, CSV or Parquet (to a file, or stdout). */
export async function exportDataset(connection: Connection, name: string, options: { format?: string; out?: string }): Promise<number> {
  const ext = options.out === undefined ? '' : path.extname(options.out).toLowerCase().slice(1);
  const format = options.format ?? (['csv', 'parquet', 'jsonl'].includes(ext) ? ext : 'jsonl');
  const route = `/datasets/${encodeURIComponent(name)}/export?format=${format}`;
  let res: Response;
  try {
    res = await fetch(`${connection.baseURL}${route}`, { headers: { 'x-api-key': connection.apiKey } });
  } catch (error) {
    throw toCliError(error, { baseURL: connection.baseURL });
  }
  if (!res.ok) {
    const text = await res.text();
    let detail: unknown;
    try {
      detail = (JSON.parse(text) as { detail?: unknown }).detail;
    } catch {
      detail = text;
    }
    throw fromStatus(res.status, detail, { baseURL: connection.baseURL, dataset: name });
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (format === 'parquet' && options.out === undefined && process.stdout.isTTY) {
    throw new CliError('Parquet is binary: write it to a file with --out', EXIT.usage);
  }
  const output = openRawOutput(options.out);
  try {
    if (options.out === undefined) process.stdout.write(bytes);
    else writeFileSync(options.out, bytes);
  } finally {
    output.close();
  }
  if (options.out !== undefined) say(`dataset ${name} written to ${options.out} (${format}, ${bytes.length} bytes)`);
  return EXIT.ok;
}

/** `datagen dataset delete NAME`. */
export async function deleteDataset(connection: Connection, name: string): Promise<number> {
  say(String(await datasetsCall(connection, 'DELETE', `/datasets/${encodeURIComponent(name)}`, name)));
  return EXIT.ok;
}
