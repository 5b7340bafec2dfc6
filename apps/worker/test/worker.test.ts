import { Queue } from 'bullmq';
import { pino } from 'pino';
import {
  createQueue,
  jobOptions,
  JobOwnershipLostError,
  JobStore,
  startJobSchema,
  type Config,
  type GenerateBatchRequest,
  type GenerationJobData,
  type LlmProvider,
  type RedisClient,
} from '@datagen/core';
import { startGenerationWorker, type GenerationWorker } from '../src/worker';
import { deleteNamespace, testConfig, testRedis, waitFor } from '../../../test/support/stack';
import { SequenceProvider, uniqueSentence } from '../../../test/support/providers';

/** The worker against the real Redis: resuming, ownership, failures. */
let config: Config;
let redis: RedisClient;
let store: JobStore;
let queue: Queue<GenerationJobData>;
const workers: GenerationWorker[] = [];

beforeEach(() => {
  config = testConfig({ JOB_MAX_PARALLEL_BATCHES: '3' });
  redis = testRedis(config);
  store = new JobStore(redis, config.keyPrefix, config.job.retentionHours);
  queue = createQueue(config.queueName, config.keyPrefix, redis);
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

async function submit(jobId: string, n: number, extra: object = {}) {
  await store.create(jobId, 'tenant', request(n, extra), 'Queued: waiting for a worker.');
  await queue.add('generate', { jobId }, jobOptions(jobId, config.job.retentionHours));
}

async function start(provider: LlmProvider) {
  const worker = await startGenerationWorker(config, provider, pino({ level: 'silent' }));
  workers.push(worker);
  return worker;
}

const ended = (jobId: string) => waitFor(async () => (await store.getRecord(jobId))?.state, 20_000, `job ${jobId} to end`);

it('resumes a job from the inputs already stored: none lost, none repeated, no work redone', async () => {
  await submit('resume1', 20);
  // an earlier run stored 9 inputs before it died
  const before = Array.from({ length: 9 }, (_, i) => uniqueSentence(10_000 + i));
  await store.appendBatch('resume1', 0, { accepted: before, usage: { inputTokens: 1, outputTokens: 1 }, message: 'Batch 1: 9 new inputs accepted (9/20 done).' });

  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended('resume1')).toBe('DONE');
  const data = await store.readData('resume1');
  expect(data).toHaveLength(20);
  expect(data.slice(0, 9)).toEqual(before);
  expect(new Set(data).size).toBe(20);
  // 11 missing at 4 per batch: 3 calls, not a rerun of the whole job
  expect(provider.calls).toHaveLength(3);
  const snapshot = await store.getSnapshot('resume1');
  expect(snapshot!.messages.some((m) => m.startsWith('Resumed: 9 of 20 inputs were already stored'))).toBe(true);
});

it('re-accepts nothing it already stored even when the model repeats it after a restart', async () => {
  await submit('resume2', 6);
  await store.appendBatch('resume2', 0, { accepted: [uniqueSentence(0), uniqueSentence(1)], usage: null, message: '' });
  // the sequence provider starts again at 0, so its first two inputs are the stored ones
  await start(new SequenceProvider());
  expect(await ended('resume2')).toBe('DONE');
  const data = await store.readData('resume2');
  expect(data).toHaveLength(6);
  expect(new Set(data).size).toBe(6);
});

it('refuses a write from a writer that is not where the stream stands', async () => {
  await store.create('stale', 'tenant', request(10), 'Queued');
  await store.appendBatch('stale', 0, { accepted: ['one', 'two'], usage: null, message: '' });
  await expect(store.appendBatch('stale', 0, { accepted: ['three'], usage: null, message: '' })).rejects.toBeInstanceOf(JobOwnershipLostError);
  await store.finish('stale', 'DONE', 'Done.');
  await expect(store.appendBatch('stale', 2, { accepted: ['three'], usage: null, message: '' })).rejects.toBeInstanceOf(JobOwnershipLostError);
  expect(await store.readData('stale')).toEqual(['one', 'two']);
  expect(await store.finish('stale', 'ERROR', 'again')).toBe(false);
  expect((await store.getRecord('stale'))!.state).toBe('DONE');
});

it('writes the first seeds of a seedless job once, and a restart reuses them', async () => {
  await submit('seedless', 5, { seeds: [] });
  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended('seedless')).toBe('DONE');
  const record = await store.getRecord('seedless');
  expect(record!.generatedSeeds).toHaveLength(5);
  const data = await store.readData('seedless');
  expect(data).toHaveLength(5);
  for (const seed of record!.generatedSeeds!) expect(data).not.toContain(seed);
  const messages = (await store.getSnapshot('seedless'))!.messages;
  expect(messages.some((m) => m.startsWith('No seeds were given'))).toBe(true);
  expect(provider.calls[0]!.context.shots).toEqual([]);
});

it('retries a run that lost its place in the data stream, and the retry resumes from what is stored', async () => {
  await submit('conflict', 6);
  let sabotaged = false;
  const sequence = new SequenceProvider();
  // On its first call, another writer appends to the job behind this run's back.
  const provider: LlmProvider = {
    name: 'sabotaged provider',
    isLlm: true,
    async generateBatch(req: GenerateBatchRequest) {
      if (!sabotaged) {
        sabotaged = true;
        await redis.xadd(store.keys('conflict').data, '0-1', 'v', 'written by another worker');
      }
      return sequence.generateBatch(req);
    },
  };
  await start(provider);
  expect(await ended('conflict')).toBe('DONE');
  const data = await store.readData('conflict');
  expect(data).toHaveLength(6);
  expect(data[0]).toBe('written by another worker');
  expect(new Set(data).size).toBe(6);
});

it('does not start a job whose cancel flag is set', async () => {
  await submit('flagged', 10);
  await store.requestCancel('flagged');
  const provider = new SequenceProvider();
  await start(provider);
  expect(await ended('flagged')).toBe('CANCELLED');
  expect(provider.calls).toHaveLength(0);
});
