import { Queue } from 'bullmq';
import { pino } from 'pino';
import {
  createQueue,
  jobKeys,
  JobOwnershipLostError,
  JobService,
  JobStore,
  startJobSchema,
  type Config,
  type GenerateBatchRequest,
  type GenerationJobData,
  type LlmProvider,
  type RedisClient,
} from '@datagen/core';
import { startGenerationWorker, type GenerationWorker } from '../src/worker';
import { deleteNamespace, storedJob, testConfig, testRedis, waitFor } from '../../../test/support/stack';
import { SequenceProvider, uniqueSentence } from '../../../test/support/providers';

/** The worker against the real Redis: resuming, ownership, failures. */
let config: Config;
let redis: RedisClient;
let store: JobStore;
let queue: Queue<GenerationJobData>;
let jobs: JobService;
const workers: GenerationWorker[] = [];

beforeEach(() => {
  config = testConfig({ JOB_MAX_PARALLEL_BATCHES: '3' });
  redis = testRedis(config);
  store = new JobStore(redis, config.keyPrefix, config.job.retentionHours);
  queue = createQueue(config.queueName, config.keyPrefix, redis);
  jobs = new JobService(store, queue, { retentionHours: 1, price: null });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close(10_000)));
  await queue.close();
  await deleteNamespace(redis, config.keyPrefix);
  redis.disconnect();
});

const request = (n: number, extra: object = {}) =>
  startJobSchema(10_000).parse({
    application_description: 'Answer questions.',
    num_inputs_to_generate: n,
    seeds: ['Question: what is a lantern?'],
    exploration_mode: 'CONSERVATIVE',
    batch_size: 4,
    ...extra,
  });

async function submit(n: number, extra: object = {}): Promise<string> {
  return (await jobs.submit('tenant', request(n, extra))).status.job_id;
}

/** Writes inputs as an earlier run of the job would have (it claimed the job, then died). */
async function earlierRun(jobId: string, accepted: string[]): Promise<void> {
  await store.claim(jobId, 'earlier-run');
  await store.appendBatch(jobId, 'earlier-run', 0, { accepted, usage: { inputTokens: 1, outputTokens: 1, calls: 1 }, message: `Batch 1: ${accepted.length} new inputs accepted.` });
}

async function start(provider: LlmProvider) {
  const worker = await startGenerationWorker(config, provider, pino({ level: 'silent' }));
  workers.push(worker);
  return worker;
}

const ended = (jobId: string) => waitFor(async () => (await store.read(jobId))?.job.state, 20_000, `job ${jobId} to end`);
const dataOf = async (jobId: string) => (await storedJob(store, jobId))!.data;
const messagesOf = async (jobId: string) => (await storedJob(store, jobId))!.messages;

it('resumes a job from the inputs already stored: none lost, none repeated, no work redone', async () => {
  const resume1 = await submit(20);
  // an earlier run stored 9 inputs before it died
  const before = Array.from({ length: 9 }, (_, i) => uniqueSentence(10_000 + i));
  await earlierRun(resume1, before);

  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended(resume1)).toBe('DONE');
  const data = await dataOf(resume1);
  expect(data).toHaveLength(20);
  expect(data.slice(0, 9)).toEqual(before);
  expect(new Set(data).size).toBe(20);
  // 11 missing at 4 per batch: 3 calls, not a rerun of the whole job
  expect(provider.calls).toHaveLength(3);
  expect((await messagesOf(resume1)).some((m) => m.startsWith('Resumed: 9 of 20 inputs were already stored'))).toBe(true);
});

it('re-accepts nothing it already stored even when the model repeats it after a restart', async () => {
  const resume2 = await submit(6);
  await earlierRun(resume2, [uniqueSentence(0), uniqueSentence(1)]);
  // the sequence provider starts again at 0, so its first two inputs are the stored ones
  await start(new SequenceProvider());
  expect(await ended(resume2)).toBe('DONE');
  const data = await dataOf(resume2);
  expect(data).toHaveLength(6);
  expect(new Set(data).size).toBe(6);
});

it('refuses a write that is not where the stream stands, or from a run that no longer owns the job, or after the end', async () => {
  const stale = await submit(2);
  await store.claim(stale, 'run-1');
  const usage = { inputTokens: 0, outputTokens: 0, calls: 0 };
  await store.appendBatch(stale, 'run-1', 0, { accepted: ['one'], usage, message: '' });
  await expect(store.appendBatch(stale, 'run-1', 0, { accepted: ['two'], usage, message: '' })).rejects.toBeInstanceOf(JobOwnershipLostError);
  await store.claim(stale, 'run-2'); // another worker took the job over
  await expect(store.appendBatch(stale, 'run-1', 1, { accepted: ['two'], usage, message: '' })).rejects.toMatchObject({ reason: 'conflict' });
  await expect(store.finish(stale, { state: 'ERROR', message: 'stale', owner: 'run-1' })).resolves.toEqual({ kind: 'not_owner' });
  // DONE short of the target is refused; at the target it ends, once.
  await expect(store.finish(stale, { state: 'DONE', message: 'Done.', owner: 'run-2' })).resolves.toEqual({ kind: 'incomplete', stored: 1 });
  await store.appendBatch(stale, 'run-2', 1, { accepted: ['two'], usage, message: '' });
  await expect(store.finish(stale, { state: 'DONE', message: 'Done.', owner: 'run-2' })).resolves.toMatchObject({ kind: 'finished', state: 'DONE' });
  await expect(store.appendBatch(stale, 'run-2', 2, { accepted: ['three'], usage, message: '' })).rejects.toMatchObject({ reason: 'ended' });
  expect(await dataOf(stale)).toEqual(['one', 'two']);
  await expect(store.finish(stale, { state: 'ERROR', message: 'again', owner: null })).resolves.toEqual({ kind: 'already_ended', state: 'DONE' });
  expect((await store.read(stale))!.job.state).toBe('DONE');
});

it('a stale run writes nothing after another worker took its job, even where its position would match', async () => {
  // Run A owns the job and stalls; B takes it over and stores two inputs. A's batch of two
  // in flight is refused; its next batch, at the position A would have reached had it
  // counted the refused one, must be refused too: a run counts only what Redis confirmed,
  // and writes nothing once a write was refused.
  const jobId = await submit(10);
  const a = await jobs.startRun(jobId, 'run-A');
  if (a.kind !== 'run') throw new Error('run A could not start');
  const b = await jobs.startRun(jobId, 'run-B');
  if (b.kind !== 'run') throw new Error('run B could not start');
  const usage = { inputTokens: 0, outputTokens: 0 };
  await b.run.recordBatch({ accepted: ['b1', 'b2'], usage, message: '' });
  await expect(a.run.recordBatch({ accepted: ['a1', 'a2'], usage, message: '' })).rejects.toBeInstanceOf(JobOwnershipLostError);
  await expect(a.run.recordBatch({ accepted: ['a3'], usage, message: '' })).rejects.toBeInstanceOf(JobOwnershipLostError);
  await expect(a.run.finish('ERROR', 'stale')).rejects.toBeInstanceOf(JobOwnershipLostError);
  expect(await dataOf(jobId)).toEqual(['b1', 'b2']);
  expect((await store.read(jobId))!.job.state).toBeNull();
});

it('writes the first seeds of a seedless job once, and a restart reuses them', async () => {
  const seedless = await submit(5, { seeds: [] });
  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended(seedless)).toBe('DONE');
  const record = await store.readRecord(seedless);
  expect(record!.generatedSeeds).toHaveLength(5);
  const data = await dataOf(seedless);
  expect(data).toHaveLength(5);
  for (const seed of record!.generatedSeeds!) expect(data).not.toContain(seed);
  const messages = await messagesOf(seedless);
  expect(messages.some((m) => m.startsWith('No seeds were given'))).toBe(true);
  expect(provider.calls[0]!.context.shots).toEqual([]);
});

it('retries a run that lost its place in the data stream, and the retry resumes from what is stored', async () => {
  const conflict = await submit(6);
  let sabotaged = false;
  const sequence = new SequenceProvider();
  // On its first call, another writer appends to the job behind this run's back.
  const provider: LlmProvider = {
    name: 'sabotaged provider',
    isLlm: true,
    async generateBatch(req: GenerateBatchRequest) {
      if (!sabotaged) {
        sabotaged = true;
        await redis.xadd(jobKeys(config.keyPrefix, conflict).data, '0-1', 'v', 'written by another worker');
      }
      return sequence.generateBatch(req);
    },
  };
  await start(provider);
  expect(await ended(conflict)).toBe('DONE');
  const data = await dataOf(conflict);
  expect(data).toHaveLength(6);
  expect(data[0]).toBe('written by another worker');
  expect(new Set(data).size).toBe(6);
});

it('does not start a job whose cancel flag is set', async () => {
  const flagged = await submit(10);
  await store.requestCancel(flagged);
  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended(flagged)).toBe('CANCELLED');
  expect(provider.calls).toHaveLength(0);
});

it('a job cancelled while back in the queue with inputs ends CANCELLED saying what it kept, with its report', async () => {
  const jobId = await submit(10);
  await earlierRun(jobId, [uniqueSentence(1), uniqueSentence(2)]);
  await store.requestCancel(jobId);
  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended(jobId)).toBe('CANCELLED');
  expect(provider.calls).toHaveLength(0);
  const job = (await storedJob(store, jobId))!;
  expect(job.data).toHaveLength(2);
  expect(job.messages.at(-1)).toBe('Cancelled; kept 2 of 10 inputs.');
  expect(job.job.report?.diversity.distinct1).toBeGreaterThan(0);
});

it('closed with no grace while it runs a job, the worker hands the job back and leaves the process responsive', async () => {
  const worker = await start(new SequenceProvider({ latencyMs: 300 }));
  const jobId = await submit(200);
  await waitFor(async () => ((await store.read(jobId))?.job.itemCount ?? 0) > 0 || undefined, 20_000, 'a first batch');
  // The grace is over at once: the job's calls in flight still land, then BullMQ
  // hands it back. Its connection must outlive that: cut under BullMQ, the hand-back
  // failed and BullMQ retried it without a pause, and no timer of this process ran again.
  await worker.close(0);
  workers.splice(workers.indexOf(worker), 1);
  for (let tick = 0; tick < 10; tick++) await new Promise((resolve) => setTimeout(resolve, 50));
  const state = await waitFor(async () => {
    const s = await queue.getJobState(jobId);
    return s === 'active' ? undefined : s;
  }, 20_000, 'the job to leave the closed worker');
  expect(['delayed', 'waiting', 'wait', 'prioritized']).toContain(state);
  expect((await messagesOf(jobId)).some((m) => m.startsWith('Interrupted: the worker is shutting down'))).toBe(true);
});
