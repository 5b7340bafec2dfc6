import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, type Middleware } from '@anthropic-ai/sdk';
import { SUBMIT_TOOL_DESCRIPTION, SUBMIT_TOOL_NAME, SUBMIT_TOOL_SCHEMA } from '../engine/prompt';
import { describeCause, describeUnknown, FatalLlmError, RetryableLlmError, retryAfterMsOf } from './errors';
import type { BatchApi, BatchItemResult, GenerateBatchRequest, GenerateBatchResult, LlmProvider, ProviderBatch } from './provider';

/**
 * The Anthropic Messages API as an LlmProvider. The SDK retries rate limits,
 * overloads, 5xx and network failures itself (with backoff, honouring
 * retry-after); this class only turns what is left into the engine's
 * vocabulary of failure: FatalLlmError (fix the configuration) or
 * RetryableLlmError (try the batch again later), the latter with a `kind`
 * and, for 429 and 529, the `retryAfterMs` the API asked for. Every throttled
 * attempt, retried by the SDK or not, is reported to `request.onThrottled`,
 * and every attempt the SDK retries waits for `request.beforeRetry` first.
 *
 * `request.temperature` is not sent: SDK 1.x speaks API version 2026-10-21,
 * which removed the sampling parameters (any value, even 1.0, is a 400), and
 * its request types no longer have them.
 */

export interface AnthropicProviderOptions {
  apiKey: string;
  /** The API's address (ANTHROPIC_BASE_URL); the SDK's default when absent. */
  baseURL?: string;
  model: string;
  /** Retries the SDK makes itself before a call fails. */
  maxRetries: number;
  /** Per attempt: how long to wait for the API to answer. */
  timeoutMs: number;
}

/** Output budget of one call: room for `count` inputs of a few paragraphs, within what a call may ask for without streaming. */
export function maxTokensFor(count: number): number {
  return Math.min(8192, 400 + 300 * Math.max(1, count));
}


export class AnthropicProvider implements LlmProvider {
  readonly name: string;
  readonly isLlm = true;
  private readonly client: Anthropic;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;

  constructor(options: AnthropicProviderOptions) {
    this.model = options.model;
    this.name = `anthropic (${options.model})`;
    this.timeoutMs = options.timeoutMs;
    this.maxRetries = options.maxRetries;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: options.maxRetries,
      timeout: options.timeoutMs,
    });
  }

  /** Message Batches: the same requests, half price, answered within 24 hours. */
  readonly batches: BatchApi = {
    submit: (requests, signal) =>
      this.sdk(signal, async () =>
        batchOf(
          await this.client.messages.batches.create(
            { requests: requests.map(({ customId, request }) => ({ custom_id: customId, params: this.params(request) })) },
            { signal },
          ),
        ),
      ),
    retrieve: (batchId, signal) => this.sdk(signal, async () => batchOf(await this.client.messages.batches.retrieve(batchId, {}, { signal }))),
    results: (batchId, signal) =>
      this.sdk(signal, async () => {
        const out: BatchItemResult[] = [];
        for await (const line of await this.client.messages.batches.results(batchId, {}, { signal })) {
          const r = line.result;
          if (r.type === 'succeeded') out.push({ customId: line.custom_id, kind: 'succeeded', result: { candidates: candidatesOf(r.message), usage: usageOf(r.message) } });
          else if (r.type === 'errored') out.push({ customId: line.custom_id, kind: 'errored', reason: `${r.error.error.type}: ${r.error.error.message}` });
          else out.push({ customId: line.custom_id, kind: r.type, reason: r.type === 'expired' ? 'the batch expired before this request ran' : 'the batch was cancelled' });
        }
        return out;
      }),
    cancel: (batchId) => this.sdk(undefined, async () => void (await this.client.messages.batches.cancel(batchId))),
  };

  /** One SDK call, its failure as our typed errors (translateError). */
  private async sdk<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.translateError(error, signal);
    }
  }

  /** The Messages API parameters of one request (interactive or in a batch). */
  private params(request: Omit<GenerateBatchRequest, 'signal' | 'onThrottled' | 'beforeRetry'>): Anthropic.MessageCreateParamsNonStreaming {
    return {
      model: this.model,
      max_tokens: maxTokensFor(request.count),
      // No temperature (see above). The system prompt is the same for every batch of a job: cache it.
      system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: request.prompt }],
      tools: [
        {
          name: SUBMIT_TOOL_NAME,
          description: SUBMIT_TOOL_DESCRIPTION,
          input_schema: { ...SUBMIT_TOOL_SCHEMA, required: [...SUBMIT_TOOL_SCHEMA.required] },
        },
      ],
      tool_choice: { type: 'tool', name: SUBMIT_TOOL_NAME },
    };
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    let message: Anthropic.Message;
    try {
      message = await this.client.messages.create(
        this.params(request),
        { signal: request.signal, ...(hasAttemptHooks(request) && { middleware: [attemptHooks(request)] }) },
      );
    } catch (error) {
      throw this.translateError(error, request.signal);
    }
    return { candidates: candidatesOf(message), usage: usageOf(message) };
  }

  /** What the engine should do about a failed call, with a message that tells the operator what to fix. */
  private translateError(error: unknown, signal: AbortSignal | undefined): unknown {
    // A cancelled job: the caller knows why; pass the abort through untouched.
    if (error instanceof APIUserAbortError || signal?.aborted === true) return error;
    const retries = this.maxRetries === 1 ? '1 retry' : `${this.maxRetries} retries`;
    if (error instanceof APIConnectionTimeoutError) {
      return new RetryableLlmError(`the Anthropic API did not answer within ${this.timeoutMs} ms (after ${retries})`, { cause: error, kind: 'timeout' });
    }
    if (error instanceof APIConnectionError) {
      const cause = error.cause instanceof Error ? `: ${describeCause(error.cause)}` : '';
      return new RetryableLlmError(`could not reach the Anthropic API at ${this.client.baseURL}${cause} (after ${retries})`, {
        cause: error,
        kind: 'network',
      });
    }
    if (error instanceof APIError && typeof error.status === 'number') {
      return this.translateStatus(error, error.status, retries);
    }
    // By name, not instanceof: the JSON parser's errors may come from another realm (fetch's).
    const { name, message } = describeUnknown(error);
    if (name === 'SyntaxError') {
      // The SDK does not retry a 200 whose body is not JSON; the next batch may fare better.
      return new RetryableLlmError(`the Anthropic API sent a response that is not valid JSON (${message})`, { cause: error, kind: 'bad_output' });
    }
    return new RetryableLlmError(`the call to the Anthropic API failed: ${message}`, { cause: error });
  }

  private translateStatus(error: APIError, status: number, retries: string): Error {
    const detail = error.apiMessage ?? error.message;
    const said = `${status}${error.type !== null ? ` ${error.type}` : ''}: ${detail}`;
    switch (status) {
      case 401:
        return new FatalLlmError(`the Anthropic API rejected the key (${said}): check ANTHROPIC_API_KEY`, { cause: error });
      case 402:
        return new FatalLlmError(`the Anthropic API refused to bill this account (${said}): check the account's billing`, { cause: error });
      case 403:
        return new FatalLlmError(
          `the Anthropic API key is not allowed to do this (${said}): check the key's permissions and workspace, and ANTHROPIC_MODEL`,
          { cause: error },
        );
      case 404:
        return new FatalLlmError(
          `the Anthropic API does not know model "${this.model}" or the address (${said}): check ANTHROPIC_MODEL and ANTHROPIC_BASE_URL`,
          { cause: error },
        );
      case 413:
        return new FatalLlmError(`the Anthropic API found the request too large (${said}): use shorter seeds or fewer num_shots`, {
          cause: error,
        });
      case 429:
        return new RetryableLlmError(`the Anthropic API rate limit was hit (429) and still held after ${retries}`, {
          cause: error,
          kind: 'rate_limit',
          retryAfterMs: retryAfterMsOf(error.headers),
        });
      case 529:
        return new RetryableLlmError(`the Anthropic API is overloaded (529) and still was after ${retries}`, {
          cause: error,
          kind: 'overloaded',
          retryAfterMs: retryAfterMsOf(error.headers),
        });
    }
    if (status >= 500 || status === 408 || status === 409) {
      return new RetryableLlmError(`the Anthropic API failed (${said}) after ${retries}`, { cause: error, kind: 'server' });
    }
    // 400, 422 and other client errors: the same request will fail the same way.
    return new FatalLlmError(
      `the Anthropic API rejected the request (${said}): check ANTHROPIC_MODEL and the account's limits and billing`,
      { cause: error },
    );
  }
}

function hasAttemptHooks(request: GenerateBatchRequest): boolean {
  return request.onThrottled !== undefined || request.beforeRetry !== undefined;
}

/**
 * Per-attempt middleware of one call (the SDK runs it once for every HTTP
 * attempt, its own retries included, outside the per-attempt timeout):
 * before each attempt after the first, awaits `request.beforeRetry`; after
 * each, tells `request.onThrottled` about a 429 or 529, also the ones the SDK
 * then retries by itself, with the wait the API asked for.
 *
 * When beforeRetry rejects because the call's signal fired, the SDK sees the
 * signal aborted and fails the call with APIUserAbortError, as for an abort
 * mid-request; any other rejection goes the way of a middleware's errors in
 * the SDK (thrown as it is, not retried, unless it looks like a timeout).
 */
function attemptHooks(request: GenerateBatchRequest): Middleware {
  const { onThrottled, beforeRetry, signal } = request;
  let attempts = 0;
  return async (apiRequest, next) => {
    const attempt = ++attempts;
    if (attempt > 1 && beforeRetry !== undefined) await beforeRetry(attempt, signal);
    const response = await next(apiRequest);
    if (onThrottled !== undefined && (response.status === 429 || response.status === 529)) {
      const retryAfterMs = retryAfterMsOf(response.headers);
      try {
        onThrottled({ kind: response.status === 429 ? 'rate_limit' : 'overloaded', ...(retryAfterMs !== undefined && { retryAfterMs }) });
      } catch {
        // An observer's bug must not turn into a failed call.
      }
    }
    return response;
  };
}

/**
 * The raw candidates: the submit tool's input when the model called it,
 * else its text (a model may answer in prose, numbered, or refuse). The
 * engine's parser copes with either, truncated or not.
 */
function candidatesOf(message: Anthropic.Message): unknown {
  const content: Anthropic.ContentBlock[] = Array.isArray(message.content) ? message.content : [];
  const toolUses = content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
  const toolUse = toolUses.find((block) => block.name === SUBMIT_TOOL_NAME) ?? toolUses[0];
  if (toolUse !== undefined) return toolUse.input;
  return content
    .filter((block): block is Anthropic.TextBlock => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
}

function batchOf(batch: Anthropic.Messages.MessageBatch): ProviderBatch {
  const c = batch.request_counts;
  return {
    id: batch.id,
    status: batch.processing_status,
    counts: { processing: c.processing, succeeded: c.succeeded, errored: c.errored, canceled: c.canceled, expired: c.expired },
  };
}

/**
 * Input tokens include the cached part of the prompt (read or written):
 * prompt caching makes them cheaper, not fewer. The cached parts are told
 * apart, for the cost estimate.
 */
export function usageOf(message: Pick<Anthropic.Message, 'usage'>): GenerateBatchResult['usage'] {
  const usage = message.usage as Partial<Anthropic.Usage> | undefined;
  const count = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) ? n : 0);
  const cacheWriteTokens = count(usage?.cache_creation_input_tokens);
  const cacheReadTokens = count(usage?.cache_read_input_tokens);
  return {
    inputTokens: count(usage?.input_tokens) + cacheWriteTokens + cacheReadTokens,
    outputTokens: count(usage?.output_tokens),
    cacheReadTokens,
    cacheWriteTokens,
  };
}
