import { normalizeText, startJobSchema, type TerminalState } from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '@datagen/core/testing';
import { ProcessStack, RedisServerProcess, sleep, waitUntil } from '../../../test/support/processes';
import { KEY_A, storedJob, waitFor } from '../../../test/support/stack';

/**
 * Durability under faults, against real processes: the compiled API and
 * workers run as child processes, the LLM is the fake Anthropic server over
 * HTTP, Redis is real, and the tests kill the children (and Redis) for real.
 */
let stack: ProcessStack | undefined;
let fake: FakeAnthropic | undefined;
let redisServer: RedisServerProcess | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await fake?.close();
  fake = undefined;
  await redisServer?.destroy();
  redisServer = undefined;
});

const SEEDS = ['Tell me a story about a kind fox who learns to share.', 'Write a bedtime story about a dragon who is afraid of the dark.'];

/** Queues a job through the job service, as the API does, for tests without an API process. */
async function submit(s: ProcessStack, n: number, batchSize: number): Promise<string> {
  const request = startJobSchema(10_000).parse({
    application_description: "Write a children's story communicating a simple life lesson.",
    num_inputs_to_generate: n,
    seeds: SEEDS,
    batch_size: batchSize,
    exploration_mode: 'BALANCED',
  });
  return (await s.jobs.submit('tenant', request)).status.job_id;
}

function storedAtLeast(s: ProcessStack, jobId: string, count: number): Promise<string[]> {
  return waitFor(
    async () => {
      const data = await s.store.readItems(jobId);
      return data.length >= count && data;
    },
    10_000,
    `job ${jobId} to store ${count} inputs`,
  );
}

/** The job's recorded end; on a timeout, the failure says where the job stands. */
async function ended(s: ProcessStack, jobId: string, timeoutMs = 15_000): Promise<TerminalState> {
  try {
    return await waitFor(async () => (await s.store.read(jobId))?.job.state, timeoutMs, `job ${jobId} to end`);
  } catch (error) {
    const snapshot = await storedJob(s.store, jobId);
    const where = `BullMQ state '${await s.queue.getJobState(jobId)}', ${snapshot?.data.length} inputs stored, last messages:\n  ${snapshot?.messages.slice(-5).join('\n  ')}`;
    throw new Error(`${(error as Error).message}; ${where}`);
  }
}

const distinct = (data: string[]) => new Set(data.map(normalizeText)).size;

/**
 * A call that asks for new inputs (the batch prompt): the LLM work a job
 * pays for per batch, as opposed to its themes, first seeds or the critic.
 */
const isBatchCall = (request: RecordedRequest) => /\bWrite \d+ new inputs? for this application\b/.test(request.prompt);
const batchCalls = (f: FakeAnthropic) => f.requests.filter(isBatchCall);

/** The fake's latency by batch call number (0-based, in order of arrival); other calls answer in 50 ms. */
function batchLatency(latency: (batchCall: number) => number): (index: number, request: RecordedRequest) => number {
  let batchCall = 0;
  return (_index, request) => (isBatchCall(request) ? latency(batchCall++) : 50);
}

/**
 * What a run's batch messages say: how many batch calls it recorded, and how
 * many inputs those fell short of a full batch (duplicates, inputs judged bad,
 * or a whole batch for a failed or unusable call).
 */
function batchRecord(messages: string[], batchSize: number): { batches: number; shortfall: number } {
  let batches = 0;
  let shortfall = 0;
  for (const message of messages) {
    if (!/^Batch \d+\b/.test(message)) continue;
    batches++;
    const accepted = /(\d+) new inputs? accepted \(\d+\/\d+ done\)/.exec(message);
    shortfall += batchSize - (accepted !== null ? Number(accepted[1]) : 0);
  }
  return { batches, shortfall };
}

it('resumes a job whose worker was SIGKILLed mid-job: nothing lost or repeated, accepted batches not paid for again', async () => {
  const N = 60;
  const B = 5;
  const P = 4; // JOB_MAX_PARALLEL_BATCHES: at most this many calls are in flight when the worker dies
  let firstWorkerAlive = true;
  // The first round answers in 100 ms, so inputs are stored; after it, batch calls
  // of the first worker stay in flight, so the kill always lands mid-job with calls open.
  fake = await startFakeAnthropic({ latencyMs: batchLatency((n) => (firstWorkerAlive && n >= P ? 1_500 : 100)) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: String(P) } });
  const first = await stack.startWorker();
  const jobId = await submit(stack, N, B);

  const beforeKill = await storedAtLeast(stack, jobId, 10);
  first.kill('SIGKILL');
  expect(await first.waitForExit(5_000)).toEqual({ code: null, signal: 'SIGKILL' });
  firstWorkerAlive = false;
  // Its calls in flight end when the fake sees the connections close; after that every call it made is counted.
  await waitUntil(() => fake!.requests.every((r) => r.outcome !== 'pending'), 5_000, "the killed worker's open calls to close");
  const callsOfFirst = batchCalls(fake).length;
  const stored = await stack.store.readItems(jobId);
  expect(stored.slice(0, beforeKill.length)).toEqual(beforeKill);
  expect(stored.length).toBeLessThan(N);

  await stack.startWorker();
  expect(await ended(stack, jobId)).toBe('DONE');
  const { data, messages } = (await storedJob(stack.store, jobId))!;
  expect(data).toHaveLength(N);
  expect(distinct(data)).toBe(N);
  expect(data.slice(0, stored.length)).toEqual(stored);

  // The second worker started from what was stored, not from zero.
  const resumed = messages.findIndex((m) => m.startsWith(`Resumed: ${stored.length} of ${N} inputs were already stored`));
  expect(resumed).toBeGreaterThan(-1);
  const run1 = batchRecord(messages.slice(0, resumed), B);
  const run2 = batchRecord(messages.slice(resumed), B);
  // Run 1: every call is recorded but those in flight at the kill, at most P.
  expect(callsOfFirst - run1.batches).toBeGreaterThanOrEqual(0);
  expect(callsOfFirst - run1.batches).toBeLessThanOrEqual(P);
  // Run 2 pays only for what was missing. Its engine launches a call only while
  // (calls in flight) * B < (inputs missing), so k calls satisfy
  // k * B < (N - stored) + (its shortfall) + B. A rerun of the accepted batches would break this.
  const callsOfSecond = batchCalls(fake).length - callsOfFirst;
  expect(callsOfSecond).toBeLessThanOrEqual(Math.ceil((N - stored.length + run2.shortfall) / B));
  // Hence over both runs: calls <= ceil((N + shortfall) / B) + P.
  expect(batchCalls(fake).length).toBeLessThanOrEqual(Math.ceil((N + run1.shortfall + run2.shortfall) / B) + P);
});

it('finishes a job whose workers die under it twice in a row', async () => {
  const N = 100;
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 300) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  const first = await stack.startWorker();
  const jobId = await submit(stack, N, 5);

  const beforeFirstKill = await storedAtLeast(stack, jobId, 10);
  first.kill('SIGKILL');
  await first.waitForExit(5_000);
  const second = await stack.startWorker();
  const beforeSecondKill = await storedAtLeast(stack, jobId, (await stack.store.readItems(jobId)).length + 10);
  second.kill('SIGKILL');
  await second.waitForExit(5_000);
  const stored = await stack.store.readItems(jobId);
  expect(stored.length).toBeLessThan(N);

  await stack.startWorker();
  expect(await ended(stack, jobId)).toBe('DONE');
  const { data } = (await storedJob(stack.store, jobId))!;
  expect(data).toHaveLength(N);
  expect(distinct(data)).toBe(N);
  expect(data.slice(0, beforeFirstKill.length)).toEqual(beforeFirstKill);
  expect(data.slice(0, beforeSecondKill.length)).toEqual(beforeSecondKill);
  expect(data.slice(0, stored.length)).toEqual(stored);
});

it('a job that keeps storing inputs survives more dead workers than the stall limit, and ends DONE with exactly N', async () => {
  const N = 200;
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 300) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: '2', WORKER_MAX_STALLS: '5' } });
  let worker = await stack.startWorker();
  const jobId = await submit(stack, N, 5);
  // Six SIGKILLs, each after the job stored something new: BullMQ alone
  // (maxStalledCount 5, counted over the job's life) failed it at the sixth.
  let stored: string[] = [];
  for (let kill = 0; kill < 6; kill++) {
    stored = await storedAtLeast(stack, jobId, stored.length + 5);
    worker.kill('SIGKILL');
    await worker.waitForExit(5_000);
    worker = await stack.startWorker();
  }
  expect(await ended(stack, jobId, 60_000)).toBe('DONE');
  const { data } = (await storedJob(stack.store, jobId))!;
  expect(data).toHaveLength(N);
  expect(distinct(data)).toBe(N);
  expect(data.slice(0, stored.length)).toEqual(stored);
});

it('ends a job that keeps losing its workers without storing anything new ERROR, with the end recorded and the data kept', async () => {
  // Two batches answer, then the provider goes quiet: the job stores 10 inputs, then nothing.
  fake = await startFakeAnthropic({ latencyMs: batchLatency((n) => (n < 2 ? 300 : 120_000)) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: '2', WORKER_MAX_STALLS: '2' } });
  let worker = await stack.startWorker();
  const jobId = await submit(stack, 100, 5);
  await storedAtLeast(stack, jobId, 1);
  worker.kill('SIGKILL');
  await worker.waitForExit(5_000);
  const stored = await stack.store.readItems(jobId);
  // The first worker stored inputs; the next ones claim the job and die before storing any.
  for (let kill = 0; kill < 3; kill++) {
    worker = await stack.startWorker();
    await worker.waitForLog((line) => line.msg === 'job started', 15_000, 'job started');
    worker.kill('SIGKILL');
    await worker.waitForExit(5_000);
  }

  await stack.startWorker();
  expect(await ended(stack, jobId)).toBe('ERROR');
  const { data, messages } = (await storedJob(stack.store, jobId))!;
  expect(messages.at(-1)).toBe(
    'Stopped: the job lost its worker 3 times in a row without storing a new input (a worker crashed, was killed, or stopped answering while running it). The inputs generated so far are kept.',
  );
  expect(data).toEqual(stored);
});

it('a worker runs more jobs at once than an AbortSignal takes listeners by default, and Node warns of no leak', async () => {
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 300) });
  // Each running job listens to the worker's one shutdown signal: 12 at once passed Node's default limit of 10.
  const s = (stack = new ProcessStack({ anthropicUrl: fake.url, env: { WORKER_CONCURRENCY: '12', JOB_MAX_PARALLEL_BATCHES: '1' } }));
  const worker = await s.startWorker();
  const ids = await Promise.all(Array.from({ length: 12 }, () => submit(s, 10, 5)));
  for (const jobId of ids) expect(await ended(s, jobId, 60_000)).toBe('DONE');
  // They ran at once: at least 11 had started before the first one ended.
  const firstEnd = worker.logs.findIndex((line) => line.msg === 'job ended');
  expect(worker.logs.slice(0, firstEnd).filter((line) => line.msg === 'job started').length).toBeGreaterThanOrEqual(11);
  expect(worker.output.filter((line) => line.includes('MaxListenersExceededWarning'))).toEqual([]);
});

it('SIGTERM: the worker lands its calls in flight, hands the job back to the queue and exits 0; the next worker takes it at once', async () => {
  const N = 60;
  const B = 5;
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 250) });
  // A long lock and stall interval: a job left 'active' under the stopped worker
  // could not be taken over within this test, so finishing proves the hand-back.
  stack = new ProcessStack({
    anthropicUrl: fake.url,
    env: { JOB_MAX_PARALLEL_BATCHES: '2', WORKER_LOCK_DURATION_MS: '30000', WORKER_STALLED_INTERVAL_MS: '30000', WORKER_SHUTDOWN_GRACE_MS: '5000' },
  });
  const first = await stack.startWorker();
  const jobId = await submit(stack, N, B);

  const beforeStop = await storedAtLeast(stack, jobId, 10);
  first.kill('SIGTERM');
  expect(await first.waitForExit(10_000)).toEqual({ code: 0, signal: null });
  expect(first.logs.map((l) => l.msg)).toContain('job handed back to the queue');
  expect(first.logs.map((l) => l.msg)).not.toContain('grace period over; leaving running jobs to another worker');

  // Back in the queue, not 'active' under a dead owner.
  expect(['delayed', 'waiting', 'wait', 'prioritized']).toContain(await stack.queue.getJobState(jobId));
  const handedBack = (await storedJob(stack.store, jobId))!;
  expect(handedBack.messages.some((m) => m.startsWith('Interrupted: the worker is shutting down'))).toBe(true);
  expect(handedBack.data.slice(0, beforeStop.length)).toEqual(beforeStop);
  expect(handedBack.data.length).toBeLessThan(N);
  // Every batch call it made was answered and recorded before it left: none paid for and dropped.
  expect(batchRecord(handedBack.messages, B).batches).toBe(batchCalls(fake).length);
  expect(fake.stats.aborted).toBe(0);

  await stack.startWorker();
  expect(await ended(stack, jobId)).toBe('DONE');
  const { data, messages } = (await storedJob(stack.store, jobId))!;
  expect(data).toHaveLength(N);
  expect(distinct(data)).toBe(N);
  expect(data.slice(0, handedBack.data.length)).toEqual(handedBack.data);
  expect(messages.some((m) => m.startsWith(`Resumed: ${handedBack.data.length} of ${N} inputs were already stored`))).toBe(true);
});

it('DELETE through the API process cancels a job running in a worker process: calls in flight aborted, partial data kept', async () => {
  const N = 100;
  const P = 4;
  // The first round of batch calls answers after 1 s, so inputs are stored; later
  // ones would take a minute, so one in flight at the DELETE can only end by being aborted.
  fake = await startFakeAnthropic({ latencyMs: batchLatency((n) => (n < P ? 1_000 : 60_000)) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: String(P) } });
  const api = await stack.startApi();
  await stack.startWorker();
  const headers = { 'content-type': 'application/json', 'x-api-key': KEY_A };
  const getStatus = async (jobId: string) => (await (await fetch(`${api.url}/v1/data/generate/${jobId}`, { headers })).json()) as any;

  const post = await fetch(`${api.url}/v1/data/generate`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ application_description: 'Answer questions about stories.', num_inputs_to_generate: N, seeds: SEEDS, batch_size: 5 }),
  });
  expect(post.status).toBe(200);
  const { job_id: jobId } = (await post.json()) as { job_id: string };

  const before = await waitFor(
    async () => {
      const calls = batchCalls(fake!);
      const firstRoundDone = calls.length > P && calls.slice(0, P).every((r) => r.outcome === 'ok');
      const nextRoundOpen = calls.slice(P).some((r) => r.outcome === 'pending');
      if (!firstRoundDone || !nextRoundOpen) return null;
      const status = await getStatus(jobId);
      return status.state === 'RUNNING' && status.data.length > 0 && status;
    },
    10_000,
    'the job to store its first batches and have calls in flight',
  );
  const inFlight = batchCalls(fake).filter((r) => r.outcome === 'pending');

  const started = performance.now();
  const del = await fetch(`${api.url}/v1/data/generate/${jobId}`, { method: 'DELETE', headers });
  expect(del.status).toBe(200);
  const cancelled = await waitFor(
    async () => {
      const status = await getStatus(jobId);
      return status.state === 'CANCELLED' && status;
    },
    10_000,
    'GET to say CANCELLED',
  );
  console.log(`cancel latency across processes (DELETE until GET says CANCELLED): ${Math.round(performance.now() - started)} ms`);

  expect(cancelled.data.slice(0, before.data.length)).toEqual(before.data);
  expect(cancelled.data.length).toBeLessThan(N);
  expect(distinct(cancelled.data)).toBe(cancelled.data.length);
  expect(cancelled.detailed_status.at(-1)).toBe(`Cancelled; kept ${cancelled.data.length} of ${N} inputs.`);
  // The worker hung up on the calls in flight (and on any it launched before the cancel reached it).
  await waitUntil(() => fake!.requests.every((r) => r.outcome !== 'pending'), 5_000, 'every open LLM call to be aborted');
  expect(inFlight.length).toBeGreaterThan(0);
  expect(inFlight.map((r) => r.outcome)).toEqual(inFlight.map(() => 'aborted'));
  expect(fake.stats.aborted).toBeGreaterThanOrEqual(inFlight.length);
});

it('SIGTERM to the API: open streams end, it exits 0, and the job goes on in the worker; a new API streams it again', async () => {
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 200) });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: '1' } });
  const api = await stack.startApi();
  await stack.startWorker();
  const headers = { 'content-type': 'application/json', 'x-api-key': KEY_A };
  const post = await fetch(`${api.url}/v1/data/generate`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ application_description: 'Answer questions about stories.', num_inputs_to_generate: 30, seeds: SEEDS, batch_size: 3 }),
  });
  const { job_id: jobId } = (await post.json()) as { job_id: string };

  // A client follows the data stream; the API is told to stop while the job runs.
  const stream = await fetch(`${api.url}/v1/data/generate/${jobId}/data`, { headers });
  const reading = stream.text().then(
    (text) => ({ ended: true, lines: text.split('\n').filter((l) => l !== '').length }),
    () => ({ ended: true, lines: -1 }), // a connection closed mid-body is an end too
  );
  await storedAtLeast(stack, jobId, 3);
  api.kill('SIGTERM');
  const exit = await api.waitForExit(10_000);
  expect(exit.code).toBe(0);
  // the stream ended with the shutdown, rather than hanging on
  const outcome = await Promise.race([reading, sleep(5_000).then(() => ({ ended: false, lines: 0 }))]);
  expect(outcome.ended).toBe(true);

  // The job kept running in the worker; a new API process serves it, and its stream, in full.
  expect(await ended(stack, jobId)).toBe('DONE');
  const again = await stack.startApi();
  const text = await (await fetch(`${again.url}/v1/data/generate/${jobId}/data`, { headers })).text();
  expect(text.split('\n').filter((l) => l !== '')).toHaveLength(30);
});

it('survives Redis being killed (-9) and restarted mid-job: the worker reconnects by itself, nothing stored is lost', async () => {
  const N = 80;
  const B = 5;
  redisServer = await RedisServerProcess.create();
  fake = await startFakeAnthropic({ latencyMs: batchLatency(() => 150) });
  stack = new ProcessStack({ redisUrl: redisServer.url, anthropicUrl: fake.url, env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  const worker = await stack.startWorker();
  const jobId = await submit(stack, N, B);

  const beforeCrash = await storedAtLeast(stack, jobId, 10);
  await redisServer.kill();
  await sleep(1_500); // an outage, not a blip: the worker's calls and writes run into it
  await redisServer.start();
  // The AOF brought back everything acknowledged before the crash.
  const afterRestart = await stack.store.readItems(jobId);
  expect(afterRestart.slice(0, beforeCrash.length)).toEqual(beforeCrash);

  expect(await ended(stack, jobId, 20_000)).toBe('DONE');
  const { data } = (await storedJob(stack.store, jobId))!;
  expect(data).toHaveLength(N);
  expect(distinct(data)).toBe(N);
  expect(data.slice(0, afterRestart.length)).toEqual(afterRestart);
  expect(worker.running).toBe(true); // the same process, reconnected; nobody restarted it
});
