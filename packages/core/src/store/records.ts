import type { JobRequest } from '../contract';
import type { EconomyState } from '../model/economy';
import type { BatchCounts, JobReport, JobUsage, TerminalState } from '../model/job';

/**
 * A job's record as the store hands it out, and the one place that knows
 * how it is laid out in the job's `meta` hash (docs/redis.md): the field
 * names below are the only copy; the Lua scripts take them by name.
 */

/** What every read of a job needs: all of its record but the request and the worker's notes. */
export interface JobSummary {
  jobId: string;
  tenant: string;
  /** num_inputs_to_generate. */
  target: number;
  createdAt: number;
  /** Set once the job has ended, in the same step as its final data and counts. */
  state: TerminalState | null;
  finishedAt: number | null;
  cancelRequested: boolean;
  usage: JobUsage;
  counts: BatchCounts;
  /** Written when the job ended with inputs. */
  report: JobReport | null;
  /** Inputs stored. */
  itemCount: number;
}

/** The whole record: what a worker needs to run the job. */
export interface JobRecord extends JobSummary {
  request: JobRequest;
  /** The seeds a seedless job wrote for itself, once it has. */
  generatedSeeds: string[] | null;
  /** The themes the job derived, once it has. */
  themes: string[] | null;
  /** Economy mode: the round state, once the job has started one (model/economy.ts). */
  economy: EconomyState | null;
}

/** `meta` hash field of each count. */
export const COUNT_FIELDS: Readonly<Record<keyof BatchCounts, string>> = {
  candidates: 'candidates',
  exactDuplicates: 'rejected_exact',
  nearDuplicates: 'rejected_near',
  filtered: 'rejected_filtered',
  unusableAnswers: 'unusable_answers',
  bad: 'rejected_bad',
};

/** `meta` hash field of each usage figure. */
export const USAGE_FIELDS: Readonly<Record<keyof JobUsage, string>> = {
  inputTokens: 'tokens_in',
  outputTokens: 'tokens_out',
  calls: 'llm_calls',
  cacheReadTokens: 'tokens_cache_read',
  cacheWriteTokens: 'tokens_cache_write',
  batchInputTokens: 'batch_tokens_in',
  batchOutputTokens: 'batch_tokens_out',
  batchCacheReadTokens: 'batch_tokens_cache_read',
  batchCacheWriteTokens: 'batch_tokens_cache_write',
  batchRequests: 'batch_requests',
};

/** The fields a summary is read from (the request and the worker's notes stay in Redis). */
export const SUMMARY_FIELDS = [
  'tenant',
  'n',
  'created_at',
  'state',
  'finished_at',
  'cancel_requested',
  'report',
  ...Object.values(USAGE_FIELDS),
  ...Object.values(COUNT_FIELDS),
] as const;

/** The extra fields of a whole record. */
export const RECORD_FIELDS = [...SUMMARY_FIELDS, 'request', 'generated_seeds', 'themes', 'economy'] as const;

type Fields = Partial<Record<string, string | null>>;

/** A counts object as `meta` fields, leaving out zeros (for HINCRBY in a script). */
export function countsAsFields(counts: BatchCounts | undefined): Record<string, number> {
  const fields: Record<string, number> = {};
  if (counts === undefined) return fields;
  for (const [name, field] of Object.entries(COUNT_FIELDS) as Array<[keyof BatchCounts, string]>) {
    if (counts[name] !== 0) fields[field] = counts[name];
  }
  return fields;
}

/** Usage as `meta` fields, leaving out zeros. */
export function usageAsFields(usage: JobUsage): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [name, field] of Object.entries(USAGE_FIELDS) as Array<[keyof JobUsage, string]>) {
    const n = usage[name] ?? 0;
    if (n !== 0) fields[field] = n;
  }
  return fields;
}

/** Field values in the order of `names`, as HMGET answers them, as an object. */
export function zipFields(names: readonly string[], values: ReadonlyArray<string | null>): Fields {
  const fields: Fields = {};
  names.forEach((name, i) => (fields[name] = values[i] ?? null));
  return fields;
}

/** A summary from its fields; null when the job does not exist (expired, or never created). */
export function toSummary(jobId: string, f: Fields, itemCount: number): JobSummary | null {
  if (f.tenant == null || f.created_at == null) return null;
  const num = (field: string) => Number(f[field] ?? 0);
  return {
    jobId,
    tenant: f.tenant,
    target: num('n'),
    createdAt: num('created_at'),
    state: (f.state ?? null) as TerminalState | null,
    finishedAt: f.finished_at == null ? null : Number(f.finished_at),
    cancelRequested: f.cancel_requested === '1',
    usage: Object.fromEntries((Object.entries(USAGE_FIELDS) as Array<[keyof JobUsage, string]>).map(([name, field]) => [name, num(field)])) as unknown as JobUsage,
    counts: {
      candidates: num(COUNT_FIELDS.candidates),
      exactDuplicates: num(COUNT_FIELDS.exactDuplicates),
      nearDuplicates: num(COUNT_FIELDS.nearDuplicates),
      filtered: num(COUNT_FIELDS.filtered),
      unusableAnswers: num(COUNT_FIELDS.unusableAnswers),
      bad: num(COUNT_FIELDS.bad),
    },
    report: f.report == null ? null : (JSON.parse(f.report) as JobReport),
    itemCount,
  };
}

export function toRecord(jobId: string, f: Fields, itemCount: number): JobRecord | null {
  const summary = toSummary(jobId, f, itemCount);
  if (summary === null || f.request == null) return null;
  return {
    ...summary,
    request: JSON.parse(f.request) as JobRequest,
    generatedSeeds: f.generated_seeds == null ? null : (JSON.parse(f.generated_seeds) as string[]),
    themes: f.themes == null ? null : (JSON.parse(f.themes) as string[]),
    economy: f.economy == null ? null : (JSON.parse(f.economy) as EconomyState),
  };
}

/** Messages are one line each: the messages stream sends one per line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ');
}
