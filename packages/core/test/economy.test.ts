import {
  AnthropicProvider,
  customIdOf,
  estimateCost,
  formatWait,
  planRound,
  pollDelayMs,
  priceOf,
  requestIndexOf,
  loadConfig,
  ConfigError,
  MAX_ROUND_REQUESTS,
  OpenAICompatibleProvider,
  type BatchApi,
} from '../src';
import { startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../src/testing';

/** Requests for a round's batch, as the engine sends them. */
function requests(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    customId: customIdOf(1, i),
    request: {
      system: 'You write inputs.',
      prompt: 'Write 3 new inputs.',
      count: 3,
      temperature: 1,
      context: { applicationDescription: 'x', shots: [], seeds: [], explorationMode: 'BALANCED' as const, batchNumber: i },
    },
  }));
}

/** The batch once the provider says it has ended. */
async function ended(batches: BatchApi, id: string) {
  for (;;) {
    const b = await batches.retrieve(id);
    if (b.status === 'ended') return b;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Economy mode's pure planning, its prices, and the Message Batches API through the real SDK against the fake. */

describe('planRound', () => {
  it('plans from batch_size before any answer, with a bounded overshoot', () => {
    // 100 missing, 5 per request (the prior: a request yields what it asks for): 20 needed, 5 % more
    expect(planRound({ remaining: 100, batchSize: 5, answered: 0, accepted: 0 })).toEqual({ requests: 21, expectedYield: 5 });
    expect(planRound({ remaining: 100, batchSize: 5, answered: 0, accepted: 0, overshoot: 0.5 }).requests).toBe(30);
    expect(planRound({ remaining: 100, batchSize: 5, answered: 0, accepted: 0, overshoot: 0 }).requests).toBe(20);
  });

  it('plans from the acceptance rate seen so far', () => {
    // 2 accepted per answered request: 40 missing need 20, 21 with the overshoot
    expect(planRound({ remaining: 40, batchSize: 5, answered: 20, accepted: 40 }).requests).toBe(21);
  });

  it('never plans with a yield under a quarter of batch_size, so one bad round cannot make the next one huge', () => {
    expect(planRound({ remaining: 20, batchSize: 4, answered: 50, accepted: 0 })).toEqual({ requests: 21, expectedYield: 1 });
  });

  it('asks at least one request, none when nothing is missing, and at most the cap', () => {
    expect(planRound({ remaining: 1, batchSize: 10, answered: 3, accepted: 30 }).requests).toBe(1);
    expect(planRound({ remaining: 0, batchSize: 5, answered: 0, accepted: 0 }).requests).toBe(0);
    expect(planRound({ remaining: 1_000_000, batchSize: 1, answered: 0, accepted: 0 }).requests).toBe(MAX_ROUND_REQUESTS);
    expect(planRound({ remaining: 100, batchSize: 5, answered: 0, accepted: 0, maxRequests: 7 }).requests).toBe(7);
  });
});

it('polls at growing intervals up to a cap, and names waits in words', () => {
  expect([0, 1, 2, 3, 10].map((p) => pollDelayMs(p, 1000, 5000))).toEqual([1000, 1500, 2250, 3375, 5000]);
  expect(formatWait(45_000)).toBe('45 s');
  expect(formatWait(12 * 60_000)).toBe('12 min');
  expect(formatWait(125 * 60_000)).toBe('2 h 5 min');
});

it('names each request of a round by a custom id that only that round reads back', () => {
  expect(customIdOf(2, 13)).toBe('r2-13');
  expect(requestIndexOf(2, 'r2-13')).toBe(13);
  expect(requestIndexOf(3, 'r2-13')).toBeNull();
  expect(requestIndexOf(2, 'x')).toBeNull();
});

describe('prices', () => {
  it('knows the default model, and says null (unknown) for a model it does not know', () => {
    expect(priceOf('claude-sonnet-5-5', null)).toMatchObject({ inputPerMTok: 3, outputPerMTok: 15 });
    expect(priceOf('some-local-model', null)).toBeNull();
    expect(priceOf('some-local-model', null, { 'some-local': { inputPerMTok: 1, outputPerMTok: 2 } })).toEqual({ inputPerMTok: 1, outputPerMTok: 2 });
  });

  it('bills cache writes at 1.25x and reads at 0.1x the input price, and takes half off batch tokens', () => {
    const price = priceOf('claude-sonnet-5-5', null);
    // 1M input of which 200k cache reads and 100k cache writes, 100k output, all interactive
    const interactive = estimateCost({ inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 200_000, cacheWriteTokens: 100_000, calls: 1 }, price)!;
    // 700k x 3 + 100k x 3.75 + 200k x 0.3 + 100k x 15 = 2.1 + 0.375 + 0.06 + 1.5
    expect(interactive.costUsd).toBeCloseTo(4.035, 6);
    expect(interactive.discountUsd).toBe(0);
    // without caching the 300k cached tokens would have cost 0.9; they cost 0.435
    expect(interactive.cacheSavingsUsd).toBeCloseTo(0.465, 6);
    const batch = estimateCost(
      { inputTokens: 1_000_000, outputTokens: 100_000, calls: 1, batchInputTokens: 1_000_000, batchOutputTokens: 100_000, batchRequests: 1 },
      price,
    )!;
    expect(batch.costUsd).toBeCloseTo(2.25, 6);
    expect(batch.discountUsd).toBeCloseTo(2.25, 6);
    expect(estimateCost({ inputTokens: 1, outputTokens: 1, calls: 1 }, null)).toBeNull();
  });

  it('reads LLM_PRICES as JSON, and refuses a bad one naming the variable', () => {
    const config = loadConfig({ LLM_PRICES: '{"my-model": {"input": 2, "output": 8, "batch_discount": 0.4}}' });
    expect(config.llmPrices['my-model']).toEqual({ inputPerMTok: 2, outputPerMTok: 8, batchDiscount: 0.4 });
    expect(() => loadConfig({ LLM_PRICES: '{"my-model": {"input": "two"}}' })).toThrow(ConfigError);
    expect(() => loadConfig({ LLM_PRICES: 'not json' })).toThrow(/LLM_PRICES/);
  });

  it('refuses ECONOMY_DEFAULT=true with a provider that has no batch API', () => {
    expect(() => loadConfig({ ECONOMY_DEFAULT: 'true' })).toThrow(/ECONOMY_DEFAULT: needs a provider with a batch API/);
    expect(loadConfig({ ECONOMY_DEFAULT: 'true', ANTHROPIC_API_KEY: 'k' }).economy.byDefault).toBe(true);
    const openai = { LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', OPENAI_MODEL: 'm', ECONOMY_DEFAULT: 'true' };
    expect(() => loadConfig(openai)).toThrow(/ECONOMY_DEFAULT: needs a provider with a batch API/);
    expect(loadConfig({ ...openai, OPENAI_BATCH_API: 'true' }).llm).toMatchObject({ provider: 'openai', batchApi: true });
  });
});

describe('Message Batches through the real SDK against the fake', () => {
  let fake: FakeAnthropic | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const provider = (url: string) => new AnthropicProvider({ apiKey: 'test-key', baseURL: url, model: 'claude-sonnet-5-5', maxRetries: 0, timeoutMs: 5_000 });

  it('creates a batch, reports it in progress, then reads one result per request with usage and cache reads', async () => {
    fake = await startFakeAnthropic({ batches: { processingMs: 300 } });
    const batches = provider(fake.url).batches;
    const created = await batches.submit(requests(4));
    expect(created.id).toMatch(/^msgbatch_/);
    expect(created.status).toBe('in_progress');
    expect(created.counts.processing).toBe(4);
    expect((await ended(batches, created.id)).counts.succeeded).toBe(4);
    const results = await batches.results(created.id);
    expect(results.map((r) => r.customId).sort()).toEqual(['r1-0', 'r1-1', 'r1-2', 'r1-3']);
    const ok = results.filter((r) => r.kind === 'succeeded');
    expect(ok).toHaveLength(4);
    expect((ok[0]!.result.candidates as { inputs: string[] }).inputs).toHaveLength(3);
    // the system prompt carries cache_control: the first request writes the cache, the others read it
    expect(ok.reduce((sum, r) => sum + (r.result.usage.cacheWriteTokens ?? 0), 0)).toBeGreaterThan(0);
    expect(ok.reduce((sum, r) => sum + (r.result.usage.cacheReadTokens ?? 0), 0)).toBeGreaterThan(0);
  });

  it('cancels a batch: the requests not yet done end canceled', async () => {
    fake = await startFakeAnthropic({ batches: { processingMs: 60_000 } });
    const batches = provider(fake.url).batches;
    const created = await batches.submit(requests(3));
    await batches.cancel(created.id);
    const after = await batches.retrieve(created.id);
    expect(after.status).toBe('ended');
    expect(after.counts.canceled).toBe(3);
    expect((await batches.results(created.id)).map((r) => r.kind)).toEqual(['canceled', 'canceled', 'canceled']);
    expect(fake.stats.batchesCancelled).toBe(1);
  });

  it('reports expired and errored requests as such', async () => {
    fake = await startFakeAnthropic({ batches: { processingMs: 100, expire: (b) => b === 0, errored: (id) => id === 'r1-1' } });
    const batches = provider(fake.url).batches;
    const expiring = await batches.submit(requests(2));
    await ended(batches, expiring.id);
    expect((await batches.results(expiring.id)).every((r) => r.kind === 'expired' || r.kind === 'succeeded')).toBe(true);
    expect((await batches.retrieve(expiring.id)).counts.expired).toBeGreaterThan(0);
    const erroring = await batches.submit(requests(2));
    await ended(batches, erroring.id);
    const results = await batches.results(erroring.id);
    expect(results.find((r) => r.customId === 'r1-1')).toMatchObject({ kind: 'errored' });
    expect(results.find((r) => r.customId === 'r1-0')).toMatchObject({ kind: 'succeeded' });
  });

  it('refuses duplicate custom ids, as the API does', async () => {
    fake = await startFakeAnthropic();
    const twice = [...requests(1), ...requests(1)];
    await expect(provider(fake.url).batches.submit(twice)).rejects.toThrow(/duplicate custom_id/);
  });
});

describe("OpenAI's Batch API through the real SDK against the fake", () => {
  let fake: FakeOpenAI | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  const provider = (url: string, batchApi = true) => new OpenAICompatibleProvider({ apiKey: 'test-key', baseURL: url, model: 'gpt-test', maxRetries: 0, timeoutMs: 5_000, batchApi });

  it('has no batch API unless OPENAI_BATCH_API says the server has one', () => {
    expect(provider('http://127.0.0.1:1/v1', false).batches).toBeUndefined();
  });

  it('uploads the requests as a JSONL file, creates a batch, and reads one answer per request from its output file', async () => {
    fake = await startFakeOpenAI({ batches: { processingMs: 200 } });
    const batches = provider(fake.url).batches!;
    const created = await batches.submit(requests(3));
    expect(created.status).toBe('in_progress');
    const uploaded = [...fake.files.values()][0]!.split('\n').map((line) => JSON.parse(line) as { custom_id: string; url: string; body: { model: string } });
    expect(uploaded.map((l) => l.custom_id)).toEqual(['r1-0', 'r1-1', 'r1-2']);
    expect(uploaded[0]).toMatchObject({ url: '/v1/chat/completions', body: { model: 'gpt-test' } });
    expect((await ended(batches, created.id)).counts.succeeded).toBe(3);
    const results = await batches.results(created.id);
    expect(results.map((r) => r.kind)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const first = results[0]!;
    expect(first.kind === 'succeeded' && (first.result.candidates as { inputs: string[] }).inputs).toHaveLength(3);
  });

  it('reads errored and expired requests from the error file, and cancels', async () => {
    fake = await startFakeOpenAI({ batches: { processingMs: 100, expire: (b) => b === 0, errored: (id, b) => b === 1 && id === 'r1-1' } });
    const batches = provider(fake.url).batches!;
    const expiring = await batches.submit(requests(2));
    await ended(batches, expiring.id);
    expect((await batches.results(expiring.id)).some((r) => r.kind === 'expired')).toBe(true);
    const erroring = await batches.submit(requests(2));
    await ended(batches, erroring.id);
    const results = await batches.results(erroring.id);
    expect(results.find((r) => r.customId === 'r1-1')).toMatchObject({ kind: 'errored' });
    expect(results.find((r) => r.customId === 'r1-0')).toMatchObject({ kind: 'succeeded' });
    await fake.close();
    fake = await startFakeOpenAI({ batches: { processingMs: 60_000 } });
    const slow = provider(fake.url).batches!;
    const running = await slow.submit(requests(2));
    await slow.cancel(running.id);
    expect(await slow.retrieve(running.id)).toMatchObject({ status: 'ended', counts: { canceled: 2 } });
  });
});
