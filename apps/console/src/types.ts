/**
 * The shapes of the API's answers, as the console reads them. The console
 * talks to the API over HTTP only, so these mirror the contract (zod schemas
 * in packages/core/src/contract.ts, served as /openapi.json) rather than
 * importing it; the browser tests run against the real API.
 */

export const JOB_STATES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL: ReadonlySet<JobState> = new Set<JobState>(['DONE', 'ERROR', 'CANCELLED']);

export const EXPLORATION_MODES = ['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS'] as const;
export type ExplorationMode = (typeof EXPLORATION_MODES)[number];

export interface Report {
  generated: number;
  accepted: number;
  rejected: { exact_duplicate: number; near_duplicate: number; filtered: number; bad: number };
  unusable_answers: number;
  estimated_cost_usd: number | null;
  cost: Cost;
  diversity: { distinct_1: number; distinct_2: number; mean_pairwise_similarity: number; compression_ratio: number } | null;
}

/** `report.cost`: what the job cost so far, from its tokens and the model price. */
export interface Cost {
  /** The batch discount applied (economy mode); null: unknown price (see `note`). */
  estimated_usd: number | null;
  /** Null before the first accepted input. */
  per_1000_accepted_usd: number | null;
  billed_tokens_per_accepted: number | null;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cache_savings_usd: number | null;
  /** What the provider's batch API took off (economy mode; 0 otherwise). */
  discount_usd: number | null;
  batch_requests: number;
  /** Why there is no estimate (a model of unknown price), else null. */
  note: string | null;
}

export interface JobStatus {
  job_id: string;
  state: JobState;
  detailed_status: string[];
  data: string[] | null;
  num_inputs_to_generate: number;
  num_generated: number;
  created_at: string;
  usage: { input_tokens: number; output_tokens: number; llm_calls: number };
  report: Report;
}

export interface SourceRef {
  source: 'seed' | 'input' | 'dataset';
  index: number;
}
export interface Neighbour extends SourceRef {
  similarity: number;
}

export type Verdict = 'good' | 'bad' | 'unjudged';

export interface Item {
  index: number;
  input: string;
  batch: number | null;
  theme: string | null;
  examples: SourceRef[];
  model: string | null;
  temperature: number | null;
  critic: { verdict: Verdict; reason: string | null } | null;
  nearest: Neighbour | null;
  accepted_at: string | null;
}

export const REJECT_REASONS = ['exact_duplicate', 'near_duplicate', 'filtered', 'bad'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejected {
  index: number;
  input: string;
  reason: RejectReason;
  detail: string;
  duplicate_of: Neighbour | null;
  filter: string | null;
  batch: number;
  theme: string | null;
  rejected_at: string;
}

/** The request body of POST /v1/data/generate, as the console sends it. */
export interface JobRequest {
  application_description: string;
  num_inputs_to_generate: number;
  seeds: string[];
  batch_size?: number;
  num_shots?: number;
  exploration_mode?: ExplorationMode;
  run_parallel_batches?: boolean;
  dataset?: string;
  economy?: boolean;
  webhook_url?: string;
  webhook_progress?: boolean;
}

/** One entry of a 422 answer: `{"detail": [{"loc": ["body", "batch_size"], "msg": ..., "type": ...}]}`. */
export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
}
