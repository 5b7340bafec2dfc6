/**
 * The one small interface every LLM provider implements. The engine only ever
 * asks for "a list of strings" (a batch of new inputs, a seedless job's first
 * seeds, a job's themes, or a critic's verdicts); how a provider gets them is
 * its own business.
 */

import type { ExplorationMode, TokenUsage } from '../model/job';

export interface GenerateBatchRequest {
  /** System prompt: the fixed part of the instructions for this job. */
  system: string;
  /** User prompt: the examples and the request for this batch. */
  prompt: string;
  /** How many inputs the batch asks for (the job's batch_size, or fewer near the end). */
  count: number;
  temperature: number;
  /** Structured facts the prompt was built from, for providers that are not LLMs. */
  context: BatchContext;
  signal?: AbortSignal;
  /** The key (tenant id) the call is for: rate limits hold each key to its share. */
  tenant?: string;
  /**
   * Called for every attempt the API throttled (429 rate limit, 529 overload),
   * also ones the provider then retries by itself, so a rate limiter can slow
   * down at the first push-back rather than when the retries are spent.
   * Optional for providers and callers alike.
   */
  onThrottled?: (signal: ThrottleSignal) => void;
  /**
   * Awaited before every HTTP request of this call after the first: the SDK's
   * own retries, and any second request a provider makes (the OpenAI
   * provider's re-ask without tools). `attempt` counts the call's requests,
   * so the first call of the hook is attempt 2. A rate limiter takes a
   * request from its budget here, as it did before the first one. When it
   * rejects (typically because `signal`, the call's signal, fired while it
   * waited) the request is not sent and the call fails. Optional for
   * providers and callers alike; a provider that makes a single request per
   * call never calls it.
   */
  beforeRetry?: (attempt: number, signal?: AbortSignal) => Promise<void>;
}

/** One push-back from the API: what it was, and how long it asked us to wait, when it said. */
export interface ThrottleSignal {
  kind: 'rate_limit' | 'overloaded';
  retryAfterMs?: number;
}

/** What the prompt says, in data form (the offline generator reads this instead of the prompt). */
export interface BatchContext {
  applicationDescription: string;
  /** The examples shown in this prompt. */
  shots: string[];
  /** All seeds of the job (given or self-written). */
  seeds: string[];
  explorationMode: ExplorationMode;
  /** A number that differs for every batch of a job, so repeated calls vary. */
  batchNumber: number;
  /**
   * What the call is for (default 'inputs'). Every purpose answers a list of
   * strings through the same structured output: inputs, a job's first seeds,
   * its themes, or one verdict per input to judge ("good" / "bad: reason").
   */
  purpose?: 'inputs' | 'first_seeds' | 'themes' | 'critique';
  /** The theme this batch is asked to cover, when the job has themes. */
  theme?: string;
  /** With purpose 'critique': the inputs to judge, in order. */
  toJudge?: string[];
}

export interface GenerateBatchResult {
  /**
   * The raw candidate inputs, as the model gave them. They may still be
   * numbered, quoted, empty or duplicated: the engine parses and filters them.
   * `null` items or non-strings are allowed here; the parser drops them.
   */
  candidates: unknown;
  usage: TokenUsage;
}

export interface LlmProvider {
  /** Name shown in job messages, e.g. "anthropic (claude-sonnet-5-5)" or "offline generator". */
  readonly name: string;
  /** False for the offline generator: jobs then say their data was made without an LLM. */
  readonly isLlm: boolean;
  generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult>;
  /** The provider's batch API, when it has one (economy mode). */
  readonly batches?: BatchApi;
}

/**
 * A provider's asynchronous batch API (Anthropic's Message Batches): many
 * requests in one submission, answered within hours at half the price.
 * Economy-mode jobs send their rounds through it. Providers without one
 * leave `LlmProvider.batches` undefined.
 */
export interface BatchApi {
  /**
   * Submits the requests as one provider batch; answers it as created.
   * `customId`s are unique within the batch. `tag` names the submission
   * (job and round) for providers that keep metadata with a batch, so that
   * `find` can tell whether it reached the provider.
   */
  submit(
    requests: ReadonlyArray<{ customId: string; request: Omit<GenerateBatchRequest, 'signal' | 'onThrottled' | 'beforeRetry'> }>,
    signal?: AbortSignal,
    tag?: string,
  ): Promise<ProviderBatch>;
  /**
   * The batch submitted with `tag`, if the provider has it (null: it has
   * none). Absent for providers that keep no metadata with a batch
   * (Anthropic's Message Batches): a submission whose answer was lost cannot
   * be found there.
   */
  find?(tag: string, signal?: AbortSignal): Promise<ProviderBatch | null>;
  /** The batch as it stands. */
  retrieve(batchId: string, signal?: AbortSignal): Promise<ProviderBatch>;
  /** An ended batch's results, one per request (any order). */
  results(batchId: string, signal?: AbortSignal): Promise<BatchItemResult[]>;
  /** Asks the provider to cancel the batch (requests not yet done end canceled). */
  cancel(batchId: string): Promise<void>;
}

export interface ProviderBatch {
  id: string;
  /** in_progress, canceling (a cancel is under way), or ended (results can be read). */
  status: 'in_progress' | 'canceling' | 'ended';
  counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
}

export type BatchItemResult =
  | { customId: string; kind: 'succeeded'; result: GenerateBatchResult }
  | { customId: string; kind: 'errored' | 'canceled' | 'expired'; reason: string };
