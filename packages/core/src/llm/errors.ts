/**
 * The vocabulary of LLM failure, in the spirit of BullMQ's UnrecoverableError:
 * the class says what the engine should do about it.
 */

/** A failure that may pass: rate limit, overload, 5xx, network, bad output. Retry the batch. */
export class RetryableLlmError extends Error {
  override readonly name = 'RetryableLlmError';
}

/** A failure that will not pass by retrying (bad key, bad request, unknown model): end the job. */
export class FatalLlmError extends Error {
  override readonly name = 'FatalLlmError';
}
