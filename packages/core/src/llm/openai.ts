import { AsyncLocalStorage } from 'node:async_hooks';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai';
import { SUBMIT_TOOL_DESCRIPTION, SUBMIT_TOOL_NAME, SUBMIT_TOOL_SCHEMA } from '../engine/prompt';
import { maxTokensFor } from './anthropic';
import { describeCause, describeUnknown, FatalLlmError, RetryableLlmError, retryAfterMsOf } from './errors';
import type { BatchApi, BatchItemResult, GenerateBatchRequest, GenerateBatchResult, LlmProvider, ProviderBatch } from './provider';

/**
 * An OpenAI-compatible chat-completions endpoint as an LlmProvider: OpenAI
 * itself, and the local servers that speak the same API (Ollama, vLLM,
 * LM Studio, llama.cpp's server). It asks for the inputs through a forced
 * `submit_inputs` function call, and falls back to the message text when a
 * server or model ignores tools (many Ollama models do). A server that
 * refuses tools outright (a 400 that says so) is asked again without them,
 * and from then on always without them.
 *
 * As with the Anthropic provider, the SDK retries 408, 409, 429, 5xx and
 * connection failures itself; this class turns what is left into
 * FatalLlmError (fix the configuration) or RetryableLlmError (try later,
 * with its `kind`). Every throttled attempt (429, or 503 as Ollama and vLLM
 * answer when their queue is full), retried by the SDK or not, is reported
 * to `request.onThrottled`, and every HTTP request of a call after its first
 * (the SDK's retries, the re-ask without tools) waits for
 * `request.beforeRetry` first.
 */

export interface OpenAICompatibleProviderOptions {
  /** OPENAI_BASE_URL, e.g. http://localhost:11434/v1 for Ollama. */
  baseURL: string;
  /** OPENAI_API_KEY; local servers usually need none (a placeholder is sent then). */
  apiKey?: string;
  /** OPENAI_MODEL, e.g. llama3.1 or gpt-4o-mini. */
  model: string;
  /** Retries the SDK makes itself before a call fails. */
  maxRetries: number;
  /** Per attempt: how long to wait for the server to answer. */
  timeoutMs: number;
  /** The server has OpenAI's Batch API (files and batches; OPENAI_BATCH_API): economy mode can use it. */
  batchApi?: boolean;
}

/** Sent as the bearer token when no key is configured: local servers ignore it, and the SDK wants one. */
export const OPENAI_PLACEHOLDER_KEY = 'no-key-needed';


/** Said instead of the tool when the server takes no tools: the engine's parser reads JSON or one input a line. */
const NO_TOOLS_INSTRUCTION = `Answer with only a JSON object of the form {"inputs": ["...", "..."]}, and nothing else.`;

export class OpenAICompatibleProvider implements LlmProvider {
  readonly name: string;
  readonly isLlm = true;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  /** Set once the server has said it takes no tools (or no tool_choice): later calls leave them out. */
  private toolsRefused = false;
  /** OpenAI's Batch API, when the server has it (OPENAI_BATCH_API); local servers usually do not. */
  readonly batches?: BatchApi;

  constructor(options: OpenAICompatibleProviderOptions) {
    this.model = options.model;
    this.name = `openai-compatible (${options.model} at ${options.baseURL})`;
    this.timeoutMs = options.timeoutMs;
    this.maxRetries = options.maxRetries;
    this.client = new HookedOpenAI({
      apiKey: options.apiKey ?? OPENAI_PLACEHOLDER_KEY,
      baseURL: options.baseURL,
      maxRetries: options.maxRetries,
      timeout: options.timeoutMs,
      // Never pick up OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment for a server that is not OpenAI's.
      organization: null,
      project: null,
      fetch: observingFetch,
    });
    if (options.batchApi === true) this.batches = this.batchApi();
  }

  /**
   * The Batch API: the requests as a JSONL file (`purpose: batch`), one batch
   * of it on /v1/chat/completions within 24 hours, at half price; the answers
   * in its output file, failed and expired requests in its error file.
   */
  private batchApi(): BatchApi {
    const call = async <T>(run: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
      const started = Date.now();
      try {
        return await run();
      } catch (error) {
        throw this.translateError(error, signal, Date.now() - started);
      }
    };
    const lines = async (fileId: string | null | undefined, signal?: AbortSignal): Promise<BatchLine[]> => {
      if (fileId == null) return [];
      const text = await (await this.client.files.content(fileId, { signal })).text();
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as BatchLine);
    };
    return {
      submit: (requests, signal, tag) =>
        call(async () => {
          const jsonl = requests
            .map(({ customId, request }) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: this.body(request, !this.toolsRefused) }))
            .join('\n');
          const file = await this.client.files.create({ file: await toFile(Buffer.from(jsonl), 'datagen-batch.jsonl'), purpose: 'batch' }, { signal });
          const batch = await this.client.batches.create(
            { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...(tag !== undefined && { metadata: { [BATCH_TAG]: tag } }) },
            { signal },
          );
          return openAIBatchOf(batch);
        }, signal),
      find: (tag, signal) =>
        call(async () => {
          // The newest batches first: a lost submission is recent. A bounded look, not the account's whole history.
          let seen = 0;
          for await (const batch of this.client.batches.list({ limit: 100 }, { signal })) {
            if ((batch.metadata as Record<string, string> | null)?.[BATCH_TAG] === tag) return openAIBatchOf(batch);
            if (++seen >= FIND_LIMIT) break;
          }
          return null;
        }, signal),
      retrieve: (batchId, signal) => call(async () => openAIBatchOf(await this.client.batches.retrieve(batchId, { signal })), signal),
      results: (batchId, signal) =>
        call(async () => {
          const batch = await this.client.batches.retrieve(batchId, { signal });
          const out: BatchItemResult[] = [];
          for (const line of [...(await lines(batch.output_file_id, signal)), ...(await lines(batch.error_file_id, signal))]) {
            const response = line.response;
            if (response != null && response.status_code === 200 && response.body != null) {
              const completion = response.body as OpenAI.ChatCompletion;
              out.push({ customId: line.custom_id, kind: 'succeeded', result: { candidates: candidatesOf(completion), usage: usageOf(completion) } });
            } else if (line.error?.code === 'batch_expired') {
              out.push({ customId: line.custom_id, kind: 'expired', reason: 'the batch expired before this request ran' });
            } else {
              const said = line.error?.message ?? (response?.body as { error?: { message?: string } } | undefined)?.error?.message ?? 'no answer';
              out.push({ customId: line.custom_id, kind: 'errored', reason: `${response?.status_code ?? line.error?.code ?? 'error'}: ${said}` });
            }
          }
          return out;
        }, signal),
      cancel: async (batchId) => {
        await call(() => this.client.batches.cancel(batchId));
      },
    };
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    // One context for all the call's requests, the re-ask without tools too: they count as one call's attempts.
    return callHooks.run({ request, requests: 0 }, () => this.generate(request));
  }

  private async generate(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    let completion: OpenAI.ChatCompletion;
    let started = Date.now();
    // Calls in flight together all learn it at once: each one that was sent with tools asks again without.
    const withTools = !this.toolsRefused;
    try {
      completion = await this.complete(request, withTools);
    } catch (error) {
      if (withTools && refusesTools(error) && request.signal?.aborted !== true) {
        this.toolsRefused = true;
        started = Date.now();
        try {
          completion = await this.complete(request, false);
        } catch (retryError) {
          throw this.translateError(retryError, request.signal, Date.now() - started);
        }
      } else {
        throw this.translateError(error, request.signal, Date.now() - started);
      }
    }
    return { candidates: candidatesOf(completion), usage: usageOf(completion) };
  }

  private complete(request: GenerateBatchRequest, withTools: boolean): Promise<OpenAI.ChatCompletion> {
    return this.client.chat.completions.create(this.body(request, withTools), { signal: request.signal });
  }

  /** The chat-completions body of one request (interactive or in a batch). */
  private body(request: Pick<GenerateBatchRequest, 'system' | 'prompt' | 'count' | 'temperature'>, withTools: boolean): OpenAI.ChatCompletionCreateParamsNonStreaming {
    const body: OpenAI.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      max_tokens: maxTokensFor(request.count),
      temperature: request.temperature,
      messages: [
        { role: 'system', content: request.system },
        { role: 'user', content: withTools ? request.prompt : `${request.prompt}\n\n${NO_TOOLS_INSTRUCTION}` },
      ],
    };
    if (withTools) {
      body.tools = [
        {
          type: 'function',
          function: {
            name: SUBMIT_TOOL_NAME,
            description: SUBMIT_TOOL_DESCRIPTION,
            parameters: { ...SUBMIT_TOOL_SCHEMA, required: [...SUBMIT_TOOL_SCHEMA.required] },
          },
        },
      ];
      body.tool_choice = { type: 'function', function: { name: SUBMIT_TOOL_NAME } };
    }
    return body;
  }

  /** What the engine should do about a failed call, with a message that tells the operator what to fix. */
  private translateError(error: unknown, signal: AbortSignal | undefined, elapsedMs: number): unknown {
    // A cancelled job: the caller knows why; pass the abort through untouched.
    if (error instanceof APIUserAbortError || signal?.aborted === true) return error;
    const retries = this.maxRetries === 1 ? '1 retry' : `${this.maxRetries} retries`;
    const where = `the OpenAI-compatible API at ${this.client.baseURL}`;
    // The SDK tells a timeout from its abort error's name; when that error comes from another realm
    // (a test sandbox) it is reported as a plain connection error, so the clock decides as well.
    if (error instanceof APIConnectionTimeoutError || (error instanceof APIConnectionError && elapsedMs >= this.timeoutMs)) {
      return new RetryableLlmError(`${where} did not answer within ${this.timeoutMs} ms (after ${retries}): raise OPENAI_TIMEOUT_MS for a slow local model`, {
        cause: error,
        kind: 'timeout',
      });
    }
    if (error instanceof APIConnectionError) {
      const cause = error.cause instanceof Error ? `: ${describeCause(error.cause)}` : '';
      return new RetryableLlmError(`could not reach ${where}${cause} (after ${retries}): check OPENAI_BASE_URL and that the server runs`, {
        cause: error,
        kind: 'network',
      });
    }
    if (error instanceof APIError && typeof error.status === 'number') {
      return this.translateStatus(error, error.status, where, retries);
    }
    const { name, message } = describeUnknown(error);
    if (name === 'SyntaxError') {
      return new RetryableLlmError(`${where} sent a response that is not valid JSON (${message})`, { cause: error, kind: 'bad_output' });
    }
    return new RetryableLlmError(`the call to ${where} failed: ${message}`, { cause: error });
  }

  private translateStatus(error: APIError, status: number, where: string, retries: string): Error {
    const said = `${status}: ${apiMessage(error)}`;
    switch (status) {
      case 401:
        return new FatalLlmError(`${where} rejected the key (${said}): check OPENAI_API_KEY`, { cause: error });
      case 403:
        return new FatalLlmError(`${where} does not allow this key to do this (${said}): check OPENAI_API_KEY and OPENAI_MODEL`, { cause: error });
      case 404:
        return new FatalLlmError(
          `${where} does not know model "${this.model}" or the address (${said}): check OPENAI_MODEL (pulled or loaded on the server?) and OPENAI_BASE_URL (it usually ends in /v1)`,
          { cause: error },
        );
      case 413:
        return new FatalLlmError(`${where} found the request too large (${said}): use shorter seeds or fewer num_shots`, { cause: error });
      case 429:
        return new RetryableLlmError(`${where} rate limit was hit (429) and still held after ${retries}`, {
          cause: error,
          kind: 'rate_limit',
          retryAfterMs: retryAfterMsOf(error.headers),
        });
      case 503:
        return new RetryableLlmError(`${where} is overloaded (${said}) and still was after ${retries}`, {
          cause: error,
          kind: 'overloaded',
          retryAfterMs: retryAfterMsOf(error.headers),
        });
    }
    if (status >= 500 || status === 408 || status === 409) {
      return new RetryableLlmError(`${where} failed (${said}) after ${retries}`, { cause: error, kind: 'server' });
    }
    // 400, 422 and other client errors: the same request will fail the same way.
    return new FatalLlmError(`${where} rejected the request (${said}): check OPENAI_MODEL and OPENAI_BASE_URL`, { cause: error });
  }
}

/** The call in progress and how many HTTP requests it made: the SDK's retries run inside the same async context. */
const callHooks = new AsyncLocalStorage<{ request: GenerateBatchRequest; requests: number }>();

/**
 * The SDK's client, with `request.beforeRetry` awaited before every request
 * of a call after its first. In prepareRequest, which the SDK runs once per
 * attempt before it arms that attempt's timeout, rather than in fetch: a wait
 * for the rate limiter is not the server being slow, and must neither use up
 * OPENAI_TIMEOUT_MS nor end as a timeout that the SDK retries.
 */
class HookedOpenAI extends OpenAI {
  protected override async prepareRequest(...args: Parameters<OpenAI['prepareRequest']>): Promise<void> {
    await super.prepareRequest(...args);
    const call = callHooks.getStore();
    if (call === undefined) return;
    const attempt = ++call.requests;
    const { beforeRetry, signal } = call.request;
    if (attempt === 1 || beforeRetry === undefined) return;
    try {
      await beforeRetry(attempt, signal);
    } catch (error) {
      // Cancelled while it waited: the same error as a cancellation mid-request.
      if (signal?.aborted === true) throw new APIUserAbortError();
      throw error;
    }
  }
}

/** fetch, telling the current call's observer about each 429 and 503, also those the SDK then retries. */
const observingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const observer = callHooks.getStore()?.request.onThrottled;
  if (observer !== undefined && (response.status === 429 || response.status === 503)) {
    const retryAfterMs = retryAfterMsOf(response.headers);
    try {
      observer({ kind: response.status === 429 ? 'rate_limit' : 'overloaded', ...(retryAfterMs !== undefined && { retryAfterMs }) });
    } catch {
      // An observer's bug must not turn into a failed call.
    }
  }
  return response;
};

/** A 400 that says the model or server takes no tools ("does not support tools", "tool_choice ... not supported"). */
function refusesTools(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status !== 400) return false;
  const text = `${apiMessage(error)} ${error.param ?? ''}`.toLowerCase();
  return /\btools?\b|tool_choice|function.?call/.test(text) && /support|unknown|unrecognized|not (?:allowed|permitted|available)|invalid|extra/.test(text);
}

/**
 * The raw candidates: the submit function's arguments when the model called
 * it (parsed when they are JSON, else the raw text, which the parser salvages
 * when truncated), else the message text (prose, numbered, JSON, a refusal).
 */
function candidatesOf(completion: OpenAI.ChatCompletion): unknown {
  const message = Array.isArray(completion.choices) ? completion.choices[0]?.message : undefined;
  if (message === undefined || message === null) return '';
  const calls = (Array.isArray(message.tool_calls) ? message.tool_calls : []).filter(
    (call): call is OpenAI.ChatCompletionMessageFunctionToolCall => call?.type === 'function' && typeof call.function?.arguments === 'string',
  );
  const call = calls.find((c) => c.function.name === SUBMIT_TOOL_NAME) ?? calls[0];
  if (call !== undefined) {
    try {
      return JSON.parse(call.function.arguments) as unknown;
    } catch {
      return call.function.arguments;
    }
  }
  if (typeof message.content === 'string' && message.content !== '') return message.content;
  return typeof message.refusal === 'string' ? message.refusal : '';
}

/** Prompt tokens include the cached ones (OpenAI's automatic prompt caching): told apart for the cost estimate when the server says. */
function usageOf(completion: OpenAI.ChatCompletion): GenerateBatchResult['usage'] {
  const count = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n : 0);
  const usage = { inputTokens: count(completion.usage?.prompt_tokens), outputTokens: count(completion.usage?.completion_tokens) };
  const cached = count(completion.usage?.prompt_tokens_details?.cached_tokens);
  return cached > 0 ? { ...usage, cacheReadTokens: cached } : usage;
}

/** The metadata key a batch's tag (job and round) is kept under. */
const BATCH_TAG = 'datagen_round';
/** How many of the newest batches `find` looks through. */
const FIND_LIMIT = 1_000;

/** One line of a batch's output or error file. */
interface BatchLine {
  custom_id: string;
  response: { status_code: number; body: unknown } | null;
  error: { code?: string; message?: string } | null;
}

/** OpenAI's batch statuses in the port's three: running, being cancelled, or over (results can be read). */
function openAIBatchOf(batch: OpenAI.Batch): ProviderBatch {
  const total = batch.request_counts?.total ?? 0;
  const completed = batch.request_counts?.completed ?? 0;
  const failed = batch.request_counts?.failed ?? 0;
  const ended = ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status);
  return {
    id: batch.id,
    status: ended ? 'ended' : batch.status === 'cancelling' ? 'canceling' : 'in_progress',
    counts: {
      processing: ended ? 0 : Math.max(0, total - completed - failed),
      succeeded: completed,
      errored: batch.status === 'expired' ? 0 : failed,
      canceled: batch.status === 'cancelled' ? Math.max(0, total - completed - failed) : 0,
      expired: batch.status === 'expired' ? Math.max(0, total - completed) : 0,
    },
  };
}

/** The server's own words: OpenAI's `{"error":{"message"}}`, or whatever the SDK made of another shape. */
function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === 'string' && body.message !== '') return body.message;
  return error.message.replace(/^\d{3}\s*/, '');
}

