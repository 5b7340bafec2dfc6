/**
 * The job model: the words every layer shares (states, modes, counts,
 * usage, the report). The bottom floor of the codebase: it imports nothing
 * of ours, and everything may import it.
 */

export const JOB_STATES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];

export type TerminalState = Extract<JobState, 'DONE' | 'ERROR' | 'CANCELLED'>;
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['DONE', 'ERROR', 'CANCELLED']);

export function isTerminal(state: JobState): state is TerminalState {
  return TERMINAL_STATES.has(state);
}

export const EXPLORATION_MODES = ['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS'] as const;
export type ExplorationMode = (typeof EXPLORATION_MODES)[number];

/** Tokens one LLM call (or a sum of calls) used. */
export interface TokenUsage {
  /** All input tokens, the cached ones (read or written) included. */
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, read from the prompt cache (billed at a tenth of the input price). */
  cacheReadTokens?: number;
  /** Of inputTokens, written to the prompt cache (billed at 1.25 x the input price). */
  cacheWriteTokens?: number;
}

/** Adds two usages (the cached parts too). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const sum: TokenUsage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  if (a.cacheReadTokens !== undefined || b.cacheReadTokens !== undefined) sum.cacheReadTokens = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  if (a.cacheWriteTokens !== undefined || b.cacheWriteTokens !== undefined) sum.cacheWriteTokens = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  return sum;
}

/**
 * A job's LLM usage so far. The totals cover every call; the batch* figures
 * are the part sent through the provider's batch API (economy mode), billed
 * at the batch discount.
 */
export interface JobUsage extends TokenUsage {
  calls: number;
  batchInputTokens?: number;
  batchOutputTokens?: number;
  batchCacheReadTokens?: number;
  batchCacheWriteTokens?: number;
  /** Requests sent through the batch API (counted in calls too). */
  batchRequests?: number;
}

/** What became of candidates (one batch's, or a job's so far), for the job's report and the metrics. */
export interface BatchCounts {
  /** Candidates judged (those past the target are not). */
  candidates: number;
  exactDuplicates: number;
  nearDuplicates: number;
  /** Rejected by the heuristic filters (empty, meta-text, refusal, length). */
  filtered: number;
  /** Answers that held no usable input at all (refusals, empty or broken output). */
  unusableAnswers: number;
  /** Judged off task, not self-contained or unrealistic by the critic. */
  bad: number;
}

export const NO_COUNTS: Readonly<BatchCounts> = Object.freeze({
  candidates: 0,
  exactDuplicates: 0,
  nearDuplicates: 0,
  filtered: 0,
  unusableAnswers: 0,
  bad: 0,
});

/** Diversity of a set of inputs (engine/diversity.ts measures it; npm run eval and a job's report show it). */
export interface Diversity {
  distinct1: number;
  distinct2: number;
  meanPairwiseSimilarity: number;
  compressionRatio: number;
}

/** Written once, when a job ends with inputs: the diversity of what it accepted. */
export interface JobReport {
  diversity: Diversity;
}
