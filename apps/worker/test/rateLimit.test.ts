import { randomBytes } from 'node:crypto';
import {
  AdaptiveConcurrency,
  AnthropicProvider,
  RateLimitedProvider,
  RetryableLlmError,
  SharedRateLimiter,
  rateLimitKey,
  type GenerateBatchRequest,
  type ThrottleSignal,
} from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic } from '@datagen/core/testing';
import { KEY_A, startStack, testConfig, testRedis, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * Rate limits and fairness end to end: the real Anthropic SDK over HTTP
 * against the fake Messages API answering 429 with retry-after-ms, and a
 * whole service (API + worker on the real Redis) running a big and a small
 * job side by side. Assertions are on states, counts and order, not on time.
 */
let stack: TestStack | undefined;
let fake: FakeAnthropic | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await fake?.close();
  fake = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const anthropic = (url: string, maxRetries: number) =>
  new AnthropicProvider({ apiKey: 'test-key', baseURL: url, model: 'claude-test', maxRetries, timeoutMs: 5_000 });

/** A limiter on the test Redis under a key prefix of its own, deleted after the test. */
function sharedLimiter(requestsPerMinute: number): SharedRateLimiter {
  const config = testConfig();
  const redis = testRedis(config);
  const keyPrefix = `rl${randomBytes(5).toString('hex')}`;
  cleanups.push(async () => {
    await redis.del(rateLimitKey(keyPrefix));
    redis.disconnect();
  });
  return new SharedRateLimiter(redis, { keyPrefix, requestsPerMinute, tokensPerMinute: 0 });
}

function batch(n: number, signal?: AbortSignal): GenerateBatchRequest {
  return {
    system: 'You write inputs for a support assistant.',
    prompt: 'Write 3 new inputs.',
    count: 3,
    temperature: 1,
    context: { applicationDescription: 'support', shots: [], seeds: [], explorationMode: 'BALANCED', batchNumber: n },
    signal,
  };
}

it('429s with retry-after over HTTP: errors say rate_limit and the wait, the limit drops, the calls then succeed', async () => {
  // The first four calls are rate limited, with retry-after-ms: 50.
  fake = await startFakeAnthropic({ faults: (i) => (i < 4 ? 'rate_limit' : null), retryAfterMs: 50 });
  const provider = new RateLimitedProvider(anthropic(fake.url, 0), {
    limiter: sharedLimiter(60_000),
    concurrency: new AdaptiveConcurrency(8),
  });

  const first = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => provider.generateBatch(batch(i))));
  const errors = first.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  expect(errors).toHaveLength(4);
  for (const error of errors) {
    expect(error).toBeInstanceOf(RetryableLlmError);
    expect(error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 50 });
    expect((error as Error).message).toContain('rate limit was hit (429)');
  }
  // All eight were in flight together: their 429s are one round, one halving.
  expect(provider.concurrency.limit).toBe(4);
  expect(provider.concurrency.stats.decreases).toBe(1);

  // The engine retries; here, the test does: every batch gets its answer.
  const retried = await Promise.all(
    first.map((r, i) => (r.status === 'fulfilled' ? r.value : provider.generateBatch(batch(i)))),
  );
  for (const result of retried) expect((result.candidates as { inputs: string[] }).inputs).toHaveLength(3);
  expect(fake.stats.faults.rate_limit).toBe(4);
  expect(fake.stats.messages).toBe(8);
  expect(provider.concurrency.stats.maxInFlight).toBeLessThanOrEqual(8);
});

it.each([
  ['overloaded', { kind: 'overloaded', retryAfterMs: 40 }],
  ['server_error', { kind: 'server' }],
  ['connection_reset', { kind: 'network' }],
  ['malformed_json', { kind: 'bad_output' }],
] as const)('says what kind of failure it was: %s', async (fault, expected) => {
  fake = await startFakeAnthropic({ faults: [fault], retryAfterMs: 40 });
  const error: unknown = await anthropic(fake.url, 0)
    .generateBatch(batch(1))
    .then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RetryableLlmError);
  expect(error).toMatchObject(expected);
  if (!('retryAfterMs' in expected)) expect((error as RetryableLlmError).retryAfterMs).toBeUndefined();
});

it('sees every throttled attempt the SDK retries by itself, not only the last', async () => {
  // Two 429s, then an answer: the SDK (2 retries) gets through, and the caller never sees an error.
  fake = await startFakeAnthropic({ faults: ['rate_limit', 'rate_limit'], retryAfterMs: 30 });
  const provider = new RateLimitedProvider(anthropic(fake.url, 2), {
    limiter: sharedLimiter(60_000),
    concurrency: new AdaptiveConcurrency(8),
  });
  const seen: ThrottleSignal[] = [];
  const result = await provider.generateBatch({ ...batch(1), onThrottled: (signal) => seen.push(signal) });
  expect((result.candidates as { inputs: string[] }).inputs).toHaveLength(3);
  expect(seen).toEqual([
    { kind: 'rate_limit', retryAfterMs: 30 },
    { kind: 'rate_limit', retryAfterMs: 30 },
  ]);
  expect(provider.concurrency.limit).toBe(4);
  expect(fake.stats.calls).toBe(3);
});

async function post(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack!.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify({ application_description: 'Answer questions about nature.', seeds: ['Question: why is the sky blue?'], ...body }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { job_id: string }).job_id;
}

async function status(jobId: string): Promise<{ state: string; data: string[] | null; detailed_status: string[] }> {
  const res = await fetch(`${stack!.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': KEY_A } });
  return (await res.json()) as { state: string; data: string[] | null; detailed_status: string[] };
}

const ended = (jobId: string) => waitForJobEnd(stack!, jobId);

it('a job through a worker rides out 429s: the worker lowers its concurrency and the job ends DONE', async () => {
  fake = await startFakeAnthropic({ faults: (i) => (i < 3 ? 'rate_limit' : null), retryAfterMs: 20 });
  stack = await startStack({
    env: { LLM_MAX_CONCURRENCY: '4', JOB_MAX_PARALLEL_BATCHES: '4', LLM_REQUESTS_PER_MINUTE: '6000', LLM_TOKENS_PER_MINUTE: '10000000' },
  });
  const worker = await stack.startWorker(anthropic(fake.url, 0));
  const done = await ended(await post({ num_inputs_to_generate: 20, batch_size: 5 }));
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(20);
  expect(done.detailed_status.join('\n')).toContain('rate limit was hit (429)');
  expect(worker.llm.concurrency.stats.decreases).toBeGreaterThanOrEqual(1);
  expect(worker.llm.concurrency.stats.maxInFlight).toBeLessThanOrEqual(4);
  expect(worker.llm.limiter.requestsPerMinute).toBe(6000);
});

it('a small job is not starved behind a big one: it ends DONE while the big one still runs', async () => {
  stack = await startStack({
    // Two jobs per worker; the big job wants 4 calls at once but the process allows 3, so calls queue (FIFO).
    env: { WORKER_CONCURRENCY: '2', JOB_MAX_PARALLEL_BATCHES: '4', LLM_MAX_CONCURRENCY: '3' },
  });
  const worker = await stack.startWorker(new SequenceProvider({ latencyMs: 40 }));

  const big = await post({ num_inputs_to_generate: 2000, batch_size: 5 });
  await waitFor(async () => {
    const s = await status(big);
    return s.state === 'RUNNING' && (s.data?.length ?? 0) > 0;
  }, 15_000, 'the big job to be under way');

  const small = await post({ num_inputs_to_generate: 5, batch_size: 5 });
  const smallDone = await ended(small);
  const bigNow = await status(big);
  expect(smallDone.state).toBe('DONE');
  expect(smallDone.data).toHaveLength(5);
  expect(bigNow.state).toBe('RUNNING');
  expect(bigNow.data!.length).toBeLessThan(2000);
  expect(worker.llm.concurrency.stats.maxInFlight).toBeLessThanOrEqual(3);

  // Done with the big one.
  await fetch(`${stack.url}/v1/data/generate/${big}`, { method: 'DELETE', headers: { 'x-api-key': KEY_A } });
  expect((await ended(big)).state).toBe('CANCELLED');
});
