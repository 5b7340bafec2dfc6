import { pino } from 'pino';
import { AnthropicProvider, createMetrics, createProvider, JobStore, NEW_ECONOMY, OpenAICompatibleProvider, requestIndexOf, type Metrics } from '@datagen/core';
import { startGenerationWorker } from '../src/worker';
import { startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeBatchOptions, type FakeOpenAI } from '@datagen/core/testing';
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
async function economyStack(batches: FakeBatchOptions, env: Record<string, string> = {}, metrics?: Metrics): Promise<TestStack> {
  fake = await startFakeAnthropic({ batches });
  stack = await startStack({
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
  // The stack's own worker, with metrics the test can read.
  stack.workers.push(await startGenerationWorker(stack.config, provider(fake.url), pino({ level: 'silent' }), metrics ?? createMetrics('worker')));
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
  const metrics = createMetrics('worker');
  await economyStack({ processingMs: 300 }, {}, metrics);
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
  // /metrics: the cost by mode and the discount, as the report has them; the time the worker held the job
  const value = async (counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}) =>
    (await counter.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
  expect(await value(metrics.llmCostUsd, { mode: 'economy' })).toBeCloseTo(cost.estimated_usd, 4);
  expect(await value(metrics.llmDiscountUsd)).toBeCloseTo(cost.discount_usd, 4);
  expect(await value(metrics.llmCacheTokens, { kind: 'read' })).toBe(cost.cache_read_tokens);
  expect(await value(metrics.jobHoldSeconds, { mode: 'economy' })).toBeGreaterThan(0);
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

it('a round a dead worker was submitting (no batch id stored) is submitted again, once, with the same custom ids', async () => {
  // No worker yet: the job is claimed by an "earlier run" that recorded round 1 as submitting, then died.
  fake = await startFakeAnthropic({ batches: { processingMs: 200 } });
  stack = await startStack({ env: { LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url, ECONOMY_POLL_MIN_MS: '100', ECONOMY_POLL_MAX_MS: '400' } });
  const jobId = await submitJob(stack, body(10));
  const store = new JobStore(stack.redis, stack.config.keyPrefix, 1);
  await store.claim(jobId, 'earlier-run');
  const requests = Array.from({ length: 3 }, (_, i) => ({ theme: null, examples: [{ source: 'seed' as const, index: i % 2 }], temperature: 1, count: 5 }));
  await store.saveEconomy(
    jobId,
    'earlier-run',
    { ...NEW_ECONOMY, round: 1, current: { round: 1, phase: 'submitting', batchId: null, startedAt: Date.now(), submittedAt: null, polls: 0, processed: 0, requests } },
    null,
  );
  stack.workers.push(await startGenerationWorker(stack.config, provider(fake.url), pino({ level: 'silent' })));
  const done = await waitForJobEnd(stack, jobId);
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(10);
  const messages: string = done.detailed_status.join('\n');
  expect(messages).toMatch(/Round 1: 3 requests sent as provider batch msgbatch_\w+ \(half price\), again: the worker that was submitting it stopped/);
  const first = [...fake.batches.values()][0]!;
  expect(first.requests.map((r) => r.custom_id)).toEqual(['r1-0', 'r1-1', 'r1-2']);
  expect(roundsOf(fake).filter((round) => round === 1)).toHaveLength(1);
  // the requests were made again from what the round stored: the same examples
  expect(JSON.stringify(first.requests[0]!.params)).toContain('draft an email to my landlord');
});

it('a run that died while judging a round\'s answers is resumed after the last answer it recorded', async () => {
  fake = await startFakeAnthropic({ batches: { processingMs: 50 } });
  stack = await startStack({ env: { LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url, ECONOMY_POLL_MIN_MS: '100', ECONOMY_POLL_MAX_MS: '400' } });
  const jobId = await submitJob(stack, body(20));
  const store = new JobStore(stack.redis, stack.config.keyPrefix, 1);
  // The earlier run submitted round 1 (4 requests), the batch ended, and it recorded the first two answers' inputs, then died.
  const requests = Array.from({ length: 4 }, () => ({ theme: null, examples: [{ source: 'seed' as const, index: 0 }], temperature: 1, count: 5 }));
  const batches = provider(fake.url).batches;
  const batch = await batches.submit(
    requests.map((_, i) => ({
      customId: `r1-${i}`,
      request: { system: 'x', prompt: 'Write 5 new inputs.', count: 5, temperature: 1, context: { applicationDescription: 'x', shots: [], seeds: [], explorationMode: 'BALANCED' as const, batchNumber: i } },
    })),
  );
  await waitFor(async () => (await batches.retrieve(batch.id)).status === 'ended', 5_000, 'the batch to end');
  const round = { round: 1, phase: 'submitted' as const, batchId: batch.id, startedAt: Date.now(), submittedAt: Date.now(), polls: 1, processed: 2, requests };
  await store.claim(jobId, 'earlier-run');
  const earlier = Array.from({ length: 6 }, (_, i) => `An input the earlier run accepted from the first two answers, number ${i}.`);
  await store.appendBatch(jobId, 'earlier-run', 0, {
    accepted: earlier,
    usage: { inputTokens: 10, outputTokens: 10, calls: 2 },
    message: 'Round 1, request 2 of 4: 3 new inputs accepted.',
    economy: { ...NEW_ECONOMY, round: 1, current: round, answered: 2, acceptedFromBatches: 6, batches: 1 },
  });
  stack.workers.push(await startGenerationWorker(stack.config, provider(fake.url), pino({ level: 'silent' })));
  const done = await waitForJobEnd(stack, jobId);
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(20);
  expect(done.data.slice(0, 6)).toEqual(earlier);
  const messages: string = done.detailed_status.join('\n');
  expect(messages).toMatch(/Round 1, request 3 of 4: \d+ new inputs? accepted/);
  expect(messages).toMatch(/Round 1, request 4 of 4: \d+ new inputs? accepted/);
  expect(messages).not.toMatch(/Round 1, request 1 of 4/);
  expect(messages).toMatch(/Round 1 ended after .*: 4 of 4 requests answered/);
  // round 1 was the test's own batch: the job went on with round 2, never round 1 again
  const rounds = roundsOf(fake);
  expect(rounds.filter((r) => r === 1)).toHaveLength(1);
  expect(rounds).toContain(2);
});

describe('on an OpenAI-compatible server', () => {
  let openai: FakeOpenAI | undefined;
  afterEach(async () => {
    await openai?.close();
    openai = undefined;
  });
  const env = (url: string, batchApi: boolean) => ({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: url, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'gpt-test', OPENAI_BATCH_API: String(batchApi), ECONOMY_POLL_MIN_MS: '100', ECONOMY_POLL_MAX_MS: '400' });

  it("runs an economy job through OpenAI's Batch API when OPENAI_BATCH_API=true", async () => {
    openai = await startFakeOpenAI({ batches: { processingMs: 200 } });
    stack = await startStack({ env: env(openai.url, true) });
    const llm = createProvider(stack.config.llm);
    expect(llm).toBeInstanceOf(OpenAICompatibleProvider);
    stack.workers.push(await startGenerationWorker(stack.config, llm, pino({ level: 'silent' })));
    const done = await waitForJobEnd(stack, await submitJob(stack, body(15)));
    expect(done.state).toBe('DONE');
    expect(done.data).toHaveLength(15);
    expect(done.detailed_status.join('\n')).toMatch(/Round 1: \d+ requests sent as provider batch batch_fake\d+ \(half price\)/);
    expect(done.report.cost.batch_requests).toBeGreaterThan(0);
    expect(openai.batches.size).toBeGreaterThan(0);
  });

  it('a round whose batch reached the provider before the stopped worker stored its id is found by its tag, not submitted again', async () => {
    openai = await startFakeOpenAI({ batches: { processingMs: 200 } });
    stack = await startStack({ env: env(openai.url, true) });
    const jobId = await submitJob(stack, body(10));
    const store = new JobStore(stack.redis, stack.config.keyPrefix, 1);
    const requests = Array.from({ length: 3 }, (_, i) => ({ theme: null, examples: [{ source: 'seed' as const, index: i % 2 }], temperature: 1, count: 5 }));
    await store.claim(jobId, 'earlier-run');
    const state = { ...NEW_ECONOMY, round: 1, current: { round: 1, phase: 'submitting' as const, batchId: null, startedAt: Date.now(), submittedAt: null, polls: 0, processed: 0, requests } };
    await store.saveEconomy(jobId, 'earlier-run', state, null);
    // The earlier run's submission reached the provider (tagged with the job and round), then the run died.
    const llm = createProvider(stack.config.llm);
    const lost = await llm.batches!.submit(
      requests.map((_, i) => ({
        customId: `r1-${i}`,
        request: { system: 'x', prompt: 'Write 5 new inputs.', count: 5, temperature: 1, context: { applicationDescription: 'x', shots: [], seeds: [], explorationMode: 'BALANCED' as const, batchNumber: i } },
      })),
      undefined,
      `${jobId}:r1`,
    );
    stack.workers.push(await startGenerationWorker(stack.config, llm, pino({ level: 'silent' })));
    const done = await waitForJobEnd(stack, jobId);
    expect(done.state).toBe('DONE');
    expect(done.detailed_status.join('\n')).toContain(`found it at the provider as ${lost.id}, so it is not submitted again`);
    // round 1 is the lost batch; any other batch is a later round's
    const rounds = [...openai.batches.values()].map((b) => b.lines[0]!.custom_id.split('-')[0]);
    expect(rounds.filter((r) => r === 'r1')).toHaveLength(1);
  });

  it('answers 422 to an economy job when the server has no Batch API (OPENAI_BATCH_API unset: Ollama, vLLM)', async () => {
    openai = await startFakeOpenAI();
    stack = await startStack({ env: env(openai.url, false) });
    const res = await fetch(`${stack.url}/v1/data/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
      body: JSON.stringify(body(10)),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { detail: Array<{ loc: string[]; msg: string }> }).detail[0]).toMatchObject({ loc: ['body', 'economy'], msg: expect.stringContaining('OPENAI_BATCH_API') });
  });
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
