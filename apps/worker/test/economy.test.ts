import { AnthropicProvider, JobStore, requestIndexOf } from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic, type FakeBatchOptions } from '@datagen/core/testing';
import { KEY_A, startStack, storedJob, submitJob, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';

/**
 * Economy mode end to end: the API and a worker on the real Redis, the real
 * Anthropic SDK against the fake's Message Batches (processing times of a
 * few hundred ms instead of hours).
 */
let stack: TestStack | undefined;
let fake: FakeAnthropic | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await fake?.close();
  fake = undefined;
});

const MODEL = 'claude-sonnet-5-5';
const provider = (url: string) => new AnthropicProvider({ apiKey: 'test-key', baseURL: url, model: MODEL, maxRetries: 1, timeoutMs: 5_000 });

/** The API (which needs the provider's batch API too, to accept economy jobs and cancel their batches) and one worker. */
async function economyStack(batches: FakeBatchOptions, env: Record<string, string> = {}): Promise<TestStack> {
  fake = await startFakeAnthropic({ batches });
  stack = await startStack({
    provider: provider(fake.url),
    env: {
      LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: MODEL,
      ECONOMY_POLL_MIN_MS: '100',
      ECONOMY_POLL_MAX_MS: '400',
      ...env,
    },
  });
  return stack;
}

const body = (n: number, extra: object = {}) => ({
  application_description: 'A helpful assistant for everyday writing tasks.',
  num_inputs_to_generate: n,
  seeds: ['Can you draft an email to my landlord about a broken heater?', 'Please write a haiku about autumn rain for my book club.'],
  batch_size: 5,
  economy: true,
  ...extra,
});

/** Each round's number, from the custom ids of each provider batch the fake received. */
const roundsOf = (f: FakeAnthropic) => [...f.batches.values()].map((b) => Number(/^r(\d+)-/.exec(b.requests[0]!.custom_id)![1]));

it('generates exactly N through provider batches in rounds, with messages and the cost at the batch price', async () => {
  await economyStack({ processingMs: 300 });
  const done = await waitForJobEnd(stack!, await submitJob(stack!, body(40)));
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(40);
  expect(new Set(done.data).size).toBe(40);
  const messages: string = done.detailed_status.join('\n');
  expect(messages).toMatch(/Round 1: \d+ requests sent as provider batch msgbatch_\w+ \(half price\)/);
  expect(messages).toMatch(/Round 1: \d+ requests sent as provider batch msgbatch_\w+ \(half price\); waiting, \d+ of \d+ done, waited \d+ s\./);
  expect(messages).toMatch(/Round 1 ended after \d+ s: \d+ of \d+ requests answered/);
  expect(messages).toContain('in economy mode');
  // every round submitted once, with the custom ids r<round>-<i>
  const rounds = roundsOf(fake!);
  expect(new Set(rounds).size).toBe(rounds.length);
  for (const batch of fake!.batches.values()) batch.requests.forEach((r, i) => expect(requestIndexOf(roundsOf(fake!)[batch.index]!, r.custom_id)).toBe(i));
  // the generation requests went through batches: the only interactive calls are the themes and the critic
  expect(fake!.requests.every((r) => /themes|Judge these candidate inputs/i.test(r.prompt))).toBe(true);
  const cost = done.report.cost;
  expect(cost.batch_requests).toBe(fake!.stats.batchRequests);
  expect(cost.discount_usd).toBeGreaterThan(0);
  expect(cost.estimated_usd).toBeGreaterThan(0);
  expect(cost.per_1000_accepted_usd).toBeCloseTo((cost.estimated_usd * 1000) / 40, 5);
  expect(cost.billed_tokens_per_accepted).toBeGreaterThan(0);
  expect(cost.cache_read_tokens).toBeGreaterThan(0);
  expect(cost.note).toBeNull();
});

it('cancels a job waiting for its provider batch at once: CANCELLED, and the provider batch cancelled', async () => {
  await economyStack({ processingMs: 60_000 });
  const jobId = await submitJob(stack!, body(30));
  const store = new JobStore(stack!.redis, stack!.config.keyPrefix, 1);
  await waitFor(async () => (await storedJob(store, jobId))!.messages.some((m) => m.includes('sent as provider batch')), 15_000, 'the round to be submitted');
  const res = await fetch(`${stack!.url}/v1/data/generate/${jobId}`, { method: 'DELETE', headers: { 'x-api-key': KEY_A } });
  expect(res.status).toBe(200);
  const ended = await waitForJobEnd(stack!, jobId, 10_000);
  expect(ended.state).toBe('CANCELLED');
  expect(fake!.stats.batchesCancelled).toBe(1);
  expect(ended.detailed_status.join('\n')).toMatch(/provider batch msgbatch_\w+ cancelled/);
});

it('makes a new round of an expired batch and of errored requests, and still ends with exactly N', async () => {
  await economyStack({ processingMs: 200, expire: (b) => b === 0, errored: (id, b) => b === 1 && id.endsWith('-0') });
  const done = await waitForJobEnd(stack!, await submitJob(stack!, body(20)));
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(20);
  const messages: string = done.detailed_status.join('\n');
  expect(messages).toMatch(/Round 1 ended after .*expired.*the next round asks again/);
  expect(messages).toMatch(/Round 2: \d+ requests sent as provider batch/);
});

it('gives up with ERROR after ECONOMY_MAX_FAILED_ROUNDS rounds in a row that got no answer', async () => {
  await economyStack({ processingMs: 100, errored: () => true }, { ECONOMY_MAX_FAILED_ROUNDS: '2' });
  const ended = await waitForJobEnd(stack!, await submitJob(stack!, body(10)));
  expect(ended.state).toBe('ERROR');
  expect(ended.detailed_status.join('\n')).toContain("2 rounds in a row got no answer from the provider's batch API");
  expect(fake!.stats.batchesCreated).toBe(2);
});

it('a job whose worker stops mid-round is picked up by another worker where it was, without submitting the round again', async () => {
  await economyStack({ processingMs: 1_500 });
  const jobId = await submitJob(stack!, body(15));
  const store = new JobStore(stack!.redis, stack!.config.keyPrefix, 1);
  await waitFor(async () => (await storedJob(store, jobId))!.messages.some((m) => m.includes('sent as provider batch')), 15_000, 'the round to be submitted');
  await stack!.workers.shift()!.close(5_000);
  await stack!.startWorker(provider(fake!.url));
  const done = await waitForJobEnd(stack!, jobId);
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(15);
  const rounds = roundsOf(fake!);
  expect(new Set(rounds).size).toBe(rounds.length);
});

it('answers 422 to an economy job on a server whose provider has no batch API (the offline generator)', async () => {
  stack = await startStack();
  const res = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify(body(10)),
  });
  expect(res.status).toBe(422);
  const answer = (await res.json()) as { detail: Array<{ loc: string[]; msg: string }> };
  expect(answer.detail[0]!.loc).toEqual(['body', 'economy']);
  expect(answer.detail[0]!.msg).toContain('batch API');
  const bad = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify(body(10, { economy: 'yes' })),
  });
  expect(bad.status).toBe(422);
  expect(((await bad.json()) as { detail: Array<{ loc: string[] }> }).detail[0]!.loc).toEqual(['body', 'economy']);
});
