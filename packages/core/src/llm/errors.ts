/**
 * The vocabulary of LLM failure, in the spirit of BullMQ's UnrecoverableError:
 * the class says what the engine should do about it.
 */

/**
 * Why a retryable call failed. `rate_limit` (429) and `overloaded` (529) mean
 * "slow down": a rate limiter lowers its concurrency on them.
 */
export type RetryableLlmErrorKind = 'rate_limit' | 'overloaded' | 'server' | 'network' | 'timeout' | 'bad_output';

export interface RetryableLlmErrorOptions extends ErrorOptions {
  kind?: RetryableLlmErrorKind;
  /** How long the API asked us to wait before the next call (its `retry-after-ms` / `retry-after`), when it said. */
  retryAfterMs?: number;
}

/** A failure that may pass: rate limit, overload, 5xx, network, bad output. Retry the batch. */
export class RetryableLlmError extends Error {
  override readonly name = 'RetryableLlmError';
  /** Why the call failed, when the provider knows. */
  readonly kind: RetryableLlmErrorKind | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: RetryableLlmErrorOptions = {}) {
    const { kind, retryAfterMs, ...errorOptions } = options;
    super(message, errorOptions);
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A failure that will not pass by retrying (bad key, bad request, unknown model): end the job. */
export class FatalLlmError extends Error {
  override readonly name = 'FatalLlmError';
}

/** True for a call the API pushed back on: a rate limit (429) or an overload (529). */
export function isThrottleError(error: unknown): error is RetryableLlmError & { kind: 'rate_limit' | 'overloaded' } {
  return error instanceof RetryableLlmError && (error.kind === 'rate_limit' || error.kind === 'overloaded');
}

/** The longest wait a `retry-after` header is taken at its word for; longer values are capped. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The wait a response asks for, in ms: `retry-after-ms` (a number of ms), else
 * `retry-after` (seconds, or an HTTP date). Undefined when neither says
 * something usable; capped at MAX_RETRY_AFTER_MS.
 */
export function retryAfterMsOf(headers: { get(name: string): string | null } | null | undefined, now = Date.now()): number | undefined {
  if (headers === null || headers === undefined) return undefined;
  let ms: number | undefined;
  const millis = headers.get('retry-after-ms');
  if (millis !== null && millis.trim() !== '') {
    const value = Number(millis);
    if (Number.isFinite(value) && value >= 0) ms = value;
  }
  const after = headers.get('retry-after');
  if (ms === undefined && after !== null && after.trim() !== '') {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) ms = seconds >= 0 ? seconds * 1000 : undefined;
    else {
      const date = Date.parse(after);
      if (Number.isFinite(date)) ms = Math.max(0, date - now);
    }
  }
  return ms === undefined ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.ceil(ms));
}

/** undici reports "fetch failed" with the real reason in `cause`. */
export function describeCause(cause: Error): string {
  const inner = cause.cause instanceof Error ? cause.cause.message : '';
  return inner !== '' && inner !== cause.message ? `${cause.message} (${inner})` : cause.message;
}

/** The name and message of anything thrown, for error messages. */
export function describeUnknown(error: unknown): { name: string; message: string } {
  if (typeof error === 'object' && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    if (typeof message === 'string') return { name: typeof name === 'string' ? name : '', message };
  }
  return { name: '', message: String(error) };
}
