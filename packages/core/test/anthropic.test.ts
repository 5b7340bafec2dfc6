import { APIUserAbortError } from '@anthropic-ai/sdk';
import {
  AnthropicProvider,
  DedupIndex,
  FatalLlmError,
  MODE_SETTINGS,
  RetryableLlmError,
  SUBMIT_TOOL_NAME,
  SUBMIT_TOOL_SCHEMA,
  buildFirstSeedsPrompt,
  createProvider,
  loadConfig,
  parseBatch,
  type AnthropicProviderOptions,
} from '@datagen/core';
import { FAKE_REFUSAL_TEXT, startFakeAnthropic, type FakeAnthropic, type FakeAnthropicOptions, type FakeFault } from '../src/testing/fakeAnthropic';
import { batchRequest, failure, fakeServers } from './helpers/providerCalls';

/**
 * The Anthropic provider, with the real SDK, over real HTTP, against the
 * local fake of the Messages API. Small retry counts and timeouts keep it fast.
 */

const fake = fakeServers<FakeAnthropicOptions, FakeAnthropic>(startFakeAnthropic);

function providerFor(f: FakeAnthropic, overrides: Partial<AnthropicProviderOptions> = {}): AnthropicProvider {
  return new AnthropicProvider({ apiKey: 'test-key', baseURL: f.url, model: 'claude-test', maxRetries: 1, timeoutMs: 5000, ...overrides });
}

describe('AnthropicProvider: requests and answers', () => {
  it('sends the job prompts as one forced submit_inputs call and returns the tool input', async () => {
    const f = await fake();
    const provider = providerFor(f);
    const request = batchRequest(3);

    const result = await provider.generateBatch(request);

    expect(provider.name).toBe('anthropic (claude-test)');
    expect(provider.isLlm).toBe(true);
    const parsed = parseBatch(result.candidates);
    expect(parsed.problem).toBeUndefined();
    expect(new Set(parsed.inputs).size).toBe(3);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);

    expect(f.requests).toHaveLength(1);
    const sent = f.requests[0]!;
    // Exactly these fields: in particular no `temperature`, which API 2026-10-21 rejects.
    expect(sent.body).toEqual({
      model: 'claude-test',
      max_tokens: 400 + 300 * 3,
      system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: request.prompt }],
      tools: [{ name: SUBMIT_TOOL_NAME, description: expect.any(String), input_schema: SUBMIT_TOOL_SCHEMA }],
      tool_choice: { type: 'tool', name: SUBMIT_TOOL_NAME },
    });
    expect(sent.headers.authorization).toBe('Bearer test-key');
    expect(sent.outcome).toBe('ok');
  });

  it('sizes max_tokens from the number of inputs asked for, up to 8192', async () => {
    const f = await fake();
    const provider = providerFor(f);
    await provider.generateBatch(batchRequest(1));
    await provider.generateBatch(batchRequest(40));
    expect(f.requests.map((r) => r.body.max_tokens)).toEqual([700, 8192]);
    // The fake answers as many inputs as the prompt asks for.
    expect(f.stats.inputsServed).toBe(41);
  });

  it('counts the cached part of the prompt in the input tokens', async () => {
    const f = await fake();
    const provider = providerFor(f);
    const first = await provider.generateBatch(batchRequest(2));
    const second = await provider.generateBatch(batchRequest(2));
    // The fake reports the system prompt as cache creation, then as a cache read; the total is the whole prompt both times.
    const wholePrompt = Math.ceil(f.requests[0]!.rawBody.length / 4);
    expect(first.usage.inputTokens).toBe(wholePrompt);
    expect(second.usage.inputTokens).toBe(wholePrompt);
  });

  it('honours the base URL from ANTHROPIC_BASE_URL through the config and createProvider', async () => {
    const f = await fake();
    const config = loadConfig({
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: f.url,
      ANTHROPIC_MODEL: 'claude-from-env',
      ANTHROPIC_MAX_RETRIES: '0',
      ANTHROPIC_TIMEOUT_MS: '5000',
    });
    const provider = createProvider(config.llm);

    const result = await provider.generateBatch(batchRequest(2));

    expect(provider.name).toBe('anthropic (claude-from-env)');
    expect(parseBatch(result.candidates).inputs).toHaveLength(2);
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]!.body.model).toBe('claude-from-env');
  });

  it('gives the offline generator when no key is configured', () => {
    const provider = createProvider(loadConfig({}).llm);
    expect(provider.isLlm).toBe(false);
  });
});

describe('AnthropicProvider: cancellation', () => {
  it('rejects promptly with the SDK abort error, unwrapped, when the signal fires mid-call', async () => {
    const f = await fake({ latencyMs: 10_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);

    const error = await failure(providerFor(f).generateBatch(batchRequest(3, { signal: controller.signal })));

    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(f.stats.calls).toBe(1);
  });

  it('stops waiting for a retry when the signal fires', async () => {
    const f = await fake({ faults: ['rate_limit'], retryAfterMs: 10_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);

    const error = await failure(providerFor(f, { maxRetries: 2 }).generateBatch(batchRequest(3, { signal: controller.signal })));

    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(f.stats.calls).toBe(1);
  });

  it('sends nothing when the signal has already fired', async () => {
    const f = await fake();
    const error = await failure(providerFor(f).generateBatch(batchRequest(3, { signal: AbortSignal.abort() })));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(f.stats.calls).toBe(0);
  });
});

describe('AnthropicProvider: failures', () => {
  it('succeeds when a 429 is followed by an answer: the SDK retries, honouring retry-after', async () => {
    const f = await fake({ faults: ['rate_limit'] });
    const result = await providerFor(f, { maxRetries: 1 }).generateBatch(batchRequest(3));
    expect(parseBatch(result.candidates).inputs).toHaveLength(3);
    expect(f.stats.calls).toBe(2);
    expect(f.stats.faults.rate_limit).toBe(1);
    expect(f.requests[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it.each<[FakeFault, RegExp]>([
    ['rate_limit', /rate limit.*429/],
    ['overloaded', /overloaded \(529\)/],
    ['server_error', /failed \(500 api_error/],
  ])('turns %s on every attempt into a RetryableLlmError once the SDK retries are spent', async (fault, message) => {
    const f = await fake({ faults: () => fault });
    const error = await failure(providerFor(f, { maxRetries: 2 }).generateBatch(batchRequest(3)));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/after 2 retries/);
    expect(f.stats.calls).toBe(3);
  });

  it('turns a rejected key (401) into a FatalLlmError that names ANTHROPIC_API_KEY, without retrying', async () => {
    const f = await fake({ apiKey: 'the-right-key' });
    const error = await failure(providerFor(f, { apiKey: 'a-wrong-key', maxRetries: 3 }).generateBatch(batchRequest(3)));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toBe(
      'the Anthropic API rejected the key (401 authentication_error: invalid x-api-key): check ANTHROPIC_API_KEY',
    );
    expect(f.stats.calls).toBe(1);
  });

  it('turns an unknown model (404) into a FatalLlmError that names ANTHROPIC_MODEL', async () => {
    const f = await fake({ models: ['claude-known'] });
    const error = await failure(providerFor(f, { model: 'claude-unknown' }).generateBatch(batchRequest(3)));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toMatch(/model "claude-unknown".*404 not_found_error.*check ANTHROPIC_MODEL/);
    expect(f.stats.calls).toBe(1);
  });

  it.each<[number, string, string]>([
    [400, 'invalid_request_error', 'prompt is too long: 250000 tokens > 200000 maximum'],
    [403, 'permission_error', 'Your API key does not have permission to use the specified resource.'],
    [422, 'invalid_request_error', 'tools.0.input_schema: JSON schema is invalid'],
  ])('turns a %i into a FatalLlmError that carries what the API said, without retrying', async (status, errorType, apiMessage) => {
    const f = await fake({ respond: () => ({ type: 'error', status, errorType, message: apiMessage }) });
    const error = await failure(providerFor(f, { maxRetries: 3 }).generateBatch(batchRequest(3)));
    expect(error).toBeInstanceOf(FatalLlmError);
    expect(error.message).toContain(`${status} ${errorType}: ${apiMessage}`);
    expect(f.stats.calls).toBe(1);
  });

  it('recovers from a connection reset by retrying', async () => {
    const f = await fake({ faults: ['connection_reset'] });
    const result = await providerFor(f, { maxRetries: 1 }).generateBatch(batchRequest(2));
    expect(parseBatch(result.candidates).inputs).toHaveLength(2);
    expect(f.stats.faults.connection_reset).toBe(1);
    expect(f.stats.calls).toBe(2);
  });

  it('turns connection resets on every attempt into a RetryableLlmError', async () => {
    const f = await fake({ faults: () => 'connection_reset' });
    const error = await failure(providerFor(f, { maxRetries: 1 }).generateBatch(batchRequest(2)));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toContain(`could not reach the Anthropic API at ${f.url}`);
    expect(f.stats.calls).toBe(2);
  });

  it('turns a server that never answers into a RetryableLlmError after the timeout', async () => {
    const f = await fake({ faults: () => 'hang' });
    const error = await failure(providerFor(f, { maxRetries: 0, timeoutMs: 300 }).generateBatch(batchRequest(2)));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toBe('the Anthropic API did not answer within 300 ms (after 0 retries)');
    expect(f.stats.faults.hang).toBe(1);
  });

  it('turns a body that is not valid JSON into a RetryableLlmError', async () => {
    const f = await fake({ faults: ['malformed_json'] });
    const error = await failure(providerFor(f).generateBatch(batchRequest(2)));
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error.message).toMatch(/not valid JSON/);
  });
});

describe('AnthropicProvider: odd model output reaches the parser, never a throw', () => {
  it('salvages the complete inputs of output cut off at max_tokens', async () => {
    const f = await fake({ faults: ['truncated'] });
    const result = await providerFor(f).generateBatch(batchRequest(4));
    const parsed = parseBatch(result.candidates);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.inputs).toHaveLength(3);
    for (const input of parsed.inputs) expect(input).not.toMatch(/["{[]/);
  });

  it('reads numbered, quoted text given instead of a tool call', async () => {
    const f = await fake({ faults: ['numbered_text'] });
    const result = await providerFor(f).generateBatch(batchRequest(3));
    expect(typeof result.candidates).toBe('string');
    const parsed = parseBatch(result.candidates);
    expect(parsed.inputs).toHaveLength(3);
    for (const input of parsed.inputs) expect(input).not.toMatch(/^(\d|")|"$/);
  });

  it('reports a refusal as a problem', async () => {
    const f = await fake({ faults: ['refusal'] });
    const result = await providerFor(f).generateBatch(batchRequest(3));
    expect(result.candidates).toBe(FAKE_REFUSAL_TEXT);
    expect(parseBatch(result.candidates)).toEqual({ inputs: [], problem: 'the model refused to write inputs' });
  });

  it('reports an empty tool input as a problem', async () => {
    const f = await fake({ faults: ['empty_tool_input'] });
    const result = await providerFor(f).generateBatch(batchRequest(3));
    expect(result.candidates).toEqual({});
    expect(parseBatch(result.candidates)).toEqual({ inputs: [], problem: 'the model returned no inputs' });
  });

  it.each<[string, unknown, string[]]>([
    ['a list of objects under another key', { items: [{ text: 'First one' }, { text: 'Second one' }] }, ['First one', 'Second one']],
    ['a numbered string instead of a list', { inputs: '1. First one\n2. Second one' }, ['First one', 'Second one']],
    ['non-strings mixed in', { inputs: ['First one', null, 42, '  ', 'Second one'] }, ['First one', 'Second one']],
  ])('passes a malformed tool input (%s) through for the parser', async (_label, input, expected) => {
    const f = await fake({ respond: () => ({ type: 'tool', input }) });
    const result = await providerFor(f).generateBatch(batchRequest(2));
    expect(result.candidates).toEqual(input);
    expect(parseBatch(result.candidates).inputs).toEqual(expected);
  });

  it('joins the text blocks when the model answers in fenced JSON text', async () => {
    const f = await fake({ respond: () => ({ type: 'text', text: '```json\n{"inputs": ["First one", "Second one"]}\n```' }) });
    const result = await providerFor(f).generateBatch(batchRequest(2));
    expect(parseBatch(result.candidates).inputs).toEqual(['First one', 'Second one']);
  });
});

describe('the fake Anthropic API itself', () => {
  it('writes distinct inputs across calls that dedup accepts', async () => {
    const f = await fake();
    const provider = providerFor(f);
    const inputs: string[] = [];
    for (let call = 0; call < 30; call++) {
      inputs.push(...parseBatch((await provider.generateBatch(batchRequest(10))).candidates).inputs);
    }
    expect(inputs).toHaveLength(300);
    const judge = (threshold: number) => {
      const index = new DedupIndex(threshold);
      return inputs.filter((input) => index.checkAndAdd(input).kind === 'unique').length;
    };
    expect(judge(MODE_SETTINGS.BALANCED.nearDuplicateThreshold)).toBe(300);
    expect(judge(MODE_SETTINGS.ADVENTUROUS.nearDuplicateThreshold)).toBeGreaterThanOrEqual(294);
  });

  it('reads the count of a first-seeds prompt', async () => {
    const f = await fake();
    const result = await providerFor(f).generateBatch(batchRequest(5, { prompt: buildFirstSeedsPrompt(5) }));
    expect(parseBatch(result.candidates).inputs).toHaveLength(5);
    expect(f.requests[0]!.count).toBe(5);
  });

  it('injects faults at the given rates, reproducibly from the seed', async () => {
    const run = async () => {
      const f = await fake({ faultRates: { server_error: 0.5 }, seed: 7 });
      const provider = providerFor(f, { maxRetries: 0 });
      const outcomes: string[] = [];
      for (let call = 0; call < 20; call++) {
        outcomes.push(await provider.generateBatch(batchRequest(1)).then(
          () => 'ok',
          (error: unknown) => (error instanceof RetryableLlmError ? 'retryable' : 'other'),
        ));
      }
      expect(f.stats.faults.server_error + f.stats.messages).toBe(20);
      return outcomes;
    };
    const first = await run();
    expect(first.filter((o) => o === 'retryable').length).toBeGreaterThan(0);
    expect(first.filter((o) => o === 'ok').length).toBeGreaterThan(0);
    expect(first).not.toContain('other');
    expect(await run()).toEqual(first);
  });

  it('answers errors in the Anthropic shape and rejects sampling parameters as API 2026-10-21 does', async () => {
    const f = await fake();
    const body = { model: 'claude-test', max_tokens: 50, temperature: 0.5, messages: [{ role: 'user', content: 'Write 1 new input.' }] };
    const post = (headers: Record<string, string>) =>
      fetch(`${f.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    const wrongKey = await post({ 'x-api-key': 'nope', 'anthropic-version': '2026-10-21' });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });

    const sampling = await post({ 'x-api-key': 'test-key', 'anthropic-version': '2026-10-21' });
    expect(sampling.status).toBe(400);
    expect(await sampling.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'temperature: Extra inputs are not permitted' },
    });

    const legacy = await post({ 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' });
    expect(legacy.status).toBe(200);
    const message = (await legacy.json()) as { type: string; stop_reason: string; content: Array<{ type: string; name: string; input: { inputs: string[] } }> };
    expect(message).toMatchObject({ type: 'message', stop_reason: 'tool_use' });
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: SUBMIT_TOOL_NAME });
    expect(message.content[0]!.input.inputs).toHaveLength(1);
  });

  it('closes with a request still hanging', async () => {
    const f = await startFakeAnthropic({ faults: () => 'hang' });
    const pending = fetch(`${f.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 50, messages: [{ role: 'user', content: 'Write 1 new input.' }] }),
    });
    await waitFor(() => f.stats.faults.hang === 1);
    await f.close();
    await expect(pending).rejects.toThrow();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
