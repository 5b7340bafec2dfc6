import type { TerminalState } from '../model/job';

/**
 * The failures of the job service, as types the caller acts on (the API
 * maps each to its HTTP status); never matched by message text.
 */

/** No such job for this tenant (another tenant's job is not found either). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`Job ${jobId} not found`);
  }
}

/** The job has already ended: nothing to cancel. */
export class JobEndedError extends Error {
  override readonly name = 'JobEndedError';
  constructor(
    readonly jobId: string,
    readonly state: TerminalState,
  ) {
    super(`Job ${jobId} has already ended (${state}); nothing to cancel.`);
  }
}

/** An Idempotency-Key reused with another request. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor() {
    super('This Idempotency-Key was already used with a different request; use a new key for a new job.');
  }
}

/** The request that first used this Idempotency-Key is still creating its job. */
export class IdempotencyPendingError extends Error {
  override readonly name = 'IdempotencyPendingError';
  constructor() {
    super('A request with this Idempotency-Key is still being processed; retry shortly.');
  }
}

/** A list cursor that this service did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('cursor is not one this service handed out (take it from the Link header of the previous page)');
  }
}

/** An economy job asked of a server whose LLM provider has no batch API (the offline generator, an OpenAI-compatible server). */
export class EconomyUnavailableError extends Error {
  override readonly name = 'EconomyUnavailableError';
  constructor(readonly provider: string) {
    super(
      `economy mode needs an LLM provider with a batch API (Anthropic's Message Batches, or OpenAI's Batch API with OPENAI_BATCH_API=true); this server's provider (${provider}) has none. Send the job without "economy", or set "economy": false.`,
    );
  }
}

/** A run asked to end DONE short of its target: a bug of ours, refused by the store. */
export class IncompleteJobError extends Error {
  override readonly name = 'IncompleteJobError';
  constructor(jobId: string, stored: number, target: number) {
    super(`job ${jobId} was to end DONE with ${stored} of ${target} inputs stored; refused`);
  }
}

/** A submit over one of its key's quotas: nothing was queued. `retryAfterMs`: when to try again. */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
  constructor(
    readonly quota: 'open_jobs' | 'open_inputs' | 'submit_rate',
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A dataset at DATASET_MAX_ITEMS: the job that would pass it ends ERROR, keeping what it has. */
export class DatasetFullError extends Error {
  override readonly name = 'DatasetFullError';
  constructor(
    readonly dataset: string,
    readonly count: number,
    readonly max: number,
  ) {
    super(`Stopped: dataset "${dataset}" holds ${count} inputs, its most (DATASET_MAX_ITEMS=${max}); delete it or use another.`);
  }
}

/** A dataset with unfinished jobs cannot be deleted yet. */
export class DatasetBusyError extends Error {
  override readonly name = 'DatasetBusyError';
  constructor(
    readonly dataset: string,
    readonly jobs: string[],
  ) {
    super(`Dataset "${dataset}" has ${jobs.length} unfinished job${jobs.length === 1 ? '' : 's'} (${jobs.slice(0, 3).join(', ')}${jobs.length > 3 ? ', …' : ''}); cancel them or wait, then delete it.`);
  }
}

/** No such dataset for this key. */
export class DatasetNotFoundError extends Error {
  override readonly name = 'DatasetNotFoundError';
  constructor(readonly dataset: string) {
    super(`Dataset ${dataset} not found`);
  }
}
