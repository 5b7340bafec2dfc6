import { APIUserAbortError } from 'openai';
import {
  ConfigError,
  FatalLlmError,
  OPENAI_PLACEHOLDER_KEY,
  OpenAICompatibleProvider,
  RetryableLlmError,
  SUBMIT_TOOL_NAME,
  SUBMIT_TOOL_SCHEMA,
  createProvider,
  loadConfig,
  isThrottleError,
  parseBatch,
  type OpenAICompatibleProviderOptions,
  type ThrottleSignal,
} from '@datagen/core';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '../src/testing/fakeOpenAI';
import { batchRequest, failure, fakeServers } from './helpers/providerCalls';

/**
 * The OpenAI-compatible provider, with the real `openai` SDK, over real HTTP,
 * against the local fake chat-completions server.
 */

const fake = fakeServers<FakeOpenAIOptions, FakeOpenAI>(startFakeOpenAI);

function providerFor(f: FakeOpenAI, overrides: Partial<OpenAICompatibleProviderOptions> = {}): OpenAICompatibleProvider {
  return new OpenAICompatibleProvider({ apiKey: 'test-key', baseURL: f.url, model: 'llama-test', maxRetries: 1, timeoutMs: 5000, ...overrides });
}

describe('OpenAICompatibleProvider: requests and answers', () => {
  it('asks for a forced submit_inputs function call, with the temperature, and returns its arguments', async () => {
    const f = await fake();
    const provider = providerFor(f);
    const request = batchRequest(3);

    const result = await provider.generateBatch(request);

    expect(provider.isLlm).toBe(true);
    expect(provider.name).toContain('llama-test');
    const parsed = parseBatch(result.candidates);
    expect(parsed.problem).toBeUndefined();
    expect(new Set(parsed.inputs).size).toBe(3);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);

    expect(f.requests).toHaveLength(1);
    const sent = f.requests[0]!;
    expect(sent.body).toEqual({
      model: 'llama-test',
      max_tokens: 400 + 300 * 3,
      temperature: 0.8,
      messages: [
        { role: 'system', content: request.system },
        { role: 'user', content: request.prompt },
      ],
      tools: [{ type: 'function', function: { name: SUBMIT_TOOL_NAME, description: expect.any(String), parameters: SUBMIT_TOOL_SCHEMA } }],
      tool_choice: { type: 'function', function: { name: SUBMIT_TOOL_NAME } },
    });
    expect(sent.headers.authorization).toBe('Bearer test-key');
  });

  it('maps the usage of the answer', async () => {
    const f = await fake();
    const result = await providerFor(f).generateBatch(batchRequest(2));
    // the fake counts 4 characters a token, of the request body and of the answer message
    expect(result.usage.inputTokens).toBe(Math.ceil(JSON.stringify(f.requests[0]!.body).length / 4));
    expect(result.usage.outputTokens).toBeGreaterThan(10);
  });

  it('falls back to the message text when the server ignores tools', async () => {
    const f = await fake({ ignoreTools: true, respond: () => ({ type: 'text', text: '1. "Why is my internet slow at night?"\n2. Can I keep my old modem?' }) });
    const result = await providerFor(f).generateBatch(batchRequest(2));
    expect(typeof result.candidates).toBe('string');
    expect(parseBatch(result.candidates).inputs).toEqual(['Why is my internet slow at night?', 'Can I keep my old modem?']);
  });

  it('reads JSON in the text of a server that ignores tools', async () => {
    const f = await fake({ ignoreTools: true });
    const result = await providerFor(f).generateBatch(batchRequest(4));
    expect(parseBatch(result.candidates).inputs).toHaveLength(4);
  });

  it('hands truncated function arguments to the parser, which keeps the complete inputs', async () => {
    const f = await fake({ respond: () => ({ type: 'tool', arguments: '{"inputs": ["Is fibre available on my street?", "How do I chan' }) });
    const result = await providerFor(f).generateBatch(batchRequest(2));
    expect(parseBatch(result.candidates).inputs).toEqual(['Is fibre available on my street?']);
  });

  it('asks again without tools when the server refuses them, and leaves them out from then on', async () => {
    const f = await fake({ refuseTools: true });
    const provider = providerFor(f);
    const first = await provider.generateBatch(batchRequest(3));
    const second = await provider.generateBatch(batchRequest(2));
    expect(parseBatch(first.candidates).inputs).toHaveLength(3);
    expect(parseBatch(second.candidates).inputs).toHaveLength(2);
    expect(f.requests.map((r) => 'tools' in r.body)).toEqual([true, false, false]);
    expect(String((f.requests[1]!.body.messages as Array<{ content: string }>)[1]!.content)).toContain('{"inputs"');
  });

  it('asks again without tools for every call in flight when the refusal comes', async () => {
    const f = await fake({ refuseTools: true, latencyMs: 20 });
    const provider = providerFor(f);
    const results = await Promise.all([1, 2, 3].map((n) => provider.generateBatch(batchRequest(n))));
    expect(results.map((r) => parseBatch(r.candidates).inputs.length)).toEqual([1, 2, 3]);
    expect(f.requests.filter((r) => 'tools' in r.body)).toHaveLength(3);
    expect(f.requests.filter((r) => !('tools' in r.body))).toHaveLength(3);
  });

  it('sends a placeholder key when none is configured (local servers want none)', async () => {
    const f = await fake({ apiKey: null });
    await providerFor(f, { apiKey: undefined }).generateBatch(batchRequest(1));
    expect(f.requests[0]!.headers.authorization).toBe(`Bearer ${OPENAI_PLACEHOLDER_KEY}`);
  });
});

describe('OpenAICompatibleProvider: failures', () => {
  it('turns a rejected key into a FatalLlmError naming OPENAI_API_KEY, without retrying', async () => {
    const f = await fake({ apiKey: 'right-key' });
    const error = await failure(providerFor(f, { apiKey: 'wrong-key', maxRetries: 3 }).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toMatch(/401.*Incorrect API key.*OPENAI_API_KEY/);
    expect(f.requests).toHaveLength(1);
  });

  it('turns an unknown model into a FatalLlmError naming OPENAI_MODEL and OPENAI_BASE_URL', async () => {
    const f = await fake({ models: ['llama3.1'] });
    const error = await failure(providerFor(f, { model: 'no-such-model' }).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toMatch(/no-such-model/);
    expect(error.message).toMatch(/OPENAI_MODEL/);
    expect(error.message).toMatch(/OPENAI_BASE_URL/);
  });

  it('turns a bad request into a FatalLlmError', async () => {
    const f = await fake({ respond: () => ({ type: 'error', status: 400, message: "'max_tokens' is too large for this model" }) });
    const error = await failure(providerFor(f).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toMatch(/max_tokens' is too large.*OPENAI_MODEL/);
  });

  it('retries a 500 through the SDK, then gives up with a RetryableLlmError', async () => {
    const f = await fake({ faults: ['server_error', 'server_error', 'server_error'] });
    const error = await failure(providerFor(f, { maxRetries: 2 }).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toMatch(/500.*after 2 retries/);
    expect(error).toMatchObject({ kind: 'server' });
    expect(isThrottleError(error)).toBe(false);
    expect(f.requests).toHaveLength(3);
  });

  it('recovers when a retry of a 429 succeeds, and reports the push-back to onThrottled', async () => {
    const f = await fake({ faults: ['rate_limit'] });
    const throttled: ThrottleSignal[] = [];
    const result = await providerFor(f, { maxRetries: 1 }).generateBatch(batchRequest(2, { onThrottled: (s) => throttled.push(s) }));
    expect(parseBatch(result.candidates).inputs).toHaveLength(2);
    expect(f.requests).toHaveLength(2);
    expect(throttled).toEqual([{ kind: 'rate_limit', retryAfterMs: 10 }]);
  });

  it('turns a rate limit that holds into a RetryableLlmError of kind rate_limit, with the wait asked for', async () => {
    const f = await fake({ faults: ['rate_limit', 'rate_limit'] });
    const throttled: ThrottleSignal[] = [];
    const error = await failure(providerFor(f, { maxRetries: 1 }).generateBatch(batchRequest(2, { onThrottled: (s) => throttled.push(s) })));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toMatch(/429/);
    expect(error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 10 });
    expect(isThrottleError(error)).toBe(true);
    expect(throttled).toHaveLength(2);
  });

  it('reads a 503 (a full queue on Ollama or vLLM) as an overload', async () => {
    const f = await fake({ faults: ['overloaded'] });
    const error = await failure(providerFor(f, { maxRetries: 0 }).generateBatch(batchRequest()));
    expect(error).toMatchObject({ kind: 'overloaded', retryAfterMs: 10 });
    expect(error.message).toMatch(/overloaded \(503: server busy/);
  });

  it('turns an unreachable server into a RetryableLlmError naming the address and OPENAI_BASE_URL', async () => {
    const f = await fake();
    const url = f.url;
    await f.close();
    const error = await failure(providerFor(f, { baseURL: url, maxRetries: 0 }).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toContain(url);
    expect(error.message).toMatch(/OPENAI_BASE_URL/);
    expect(error).toMatchObject({ kind: 'network' });
  });

  it('turns a server that never answers into a RetryableLlmError after the timeout', async () => {
    const f = await fake({ faults: ['hang'] });
    const error = await failure(providerFor(f, { maxRetries: 0, timeoutMs: 300 }).generateBatch(batchRequest()));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toMatch(/did not answer within 300 ms/);
    expect(error).toMatchObject({ kind: 'timeout' });
  });

  it('passes an abort through untouched and stops the call', async () => {
    const f = await fake({ latencyMs: 5_000 });
    const controller = new AbortController();
    const call = providerFor(f).generateBatch(batchRequest(2, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failure(call);
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error).not.toBeInstanceOf(RetryableLlmError);
    expect(error).not.toBeInstanceOf(FatalLlmError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(f.requests).toHaveLength(1);
  });
});

describe('LLM_PROVIDER=openai', () => {
  it('needs OPENAI_BASE_URL and OPENAI_MODEL, and names them', () => {
    expect(() => loadConfig({ LLM_PROVIDER: 'openai' })).toThrow(ConfigError);
    expect(() => loadConfig({ LLM_PROVIDER: 'openai' })).toThrow(/OPENAI_BASE_URL: is required when LLM_PROVIDER=openai/);
    expect(() => loadConfig({ LLM_PROVIDER: 'openai' })).toThrow(/OPENAI_MODEL: is required when LLM_PROVIDER=openai/);
    expect(() => loadConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'localhost:11434', OPENAI_MODEL: 'm' })).toThrow(/OPENAI_BASE_URL: /);
  });

  it('builds the provider from the environment, with no key for a local server', async () => {
    const f = await fake({ apiKey: null, models: ['llama3.1'] });
    const config = loadConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: f.url, OPENAI_MODEL: 'llama3.1', OPENAI_MAX_RETRIES: '0' });
    expect(config.llm).toEqual({ provider: 'openai', baseURL: f.url, apiKey: undefined, model: 'llama3.1', maxRetries: 0, timeoutMs: 300_000 });
    const provider = createProvider(config.llm);
    expect(provider).toBeInstanceOf(OpenAICompatibleProvider);
    const result = await provider.generateBatch(batchRequest(2));
    expect(parseBatch(result.candidates).inputs).toHaveLength(2);
  });

  it('passes OPENAI_API_KEY as the bearer token', async () => {
    const f = await fake({ apiKey: 'sk-local' });
    const config = loadConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: f.url, OPENAI_MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-local' });
    await createProvider(config.llm).generateBatch(batchRequest(1));
    expect(f.requests[0]!.headers.authorization).toBe('Bearer sk-local');
  });
});
