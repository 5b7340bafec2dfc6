import { performance } from 'node:perf_hooks';
import { processCpuSeconds, processMemory } from '../env';
import { startFakeLlm, type FakeLlm } from '../fakeLlmServer';
import { Redis } from 'ioredis';
import { createLogger, createQueue, deleteNamespace, JobService, JobStore, loadConfig, OfflineGenerator, startJobSchema } from '@datagen/core';
import { startGenerationWorker } from '@datagen/worker/dist/worker';
import { startService } from '../service';
import { fmt, type SectionResult } from '../table';

/**
 * 6. Memory: the peak resident set (VmHWM) of a worker process
 * (`node apps/worker/dist/main.js`) that runs one job of 100,000 inputs
 * against the instant fake LLM, read from /proc while it runs and at the end.
 */
export interface MemoryOptions {
  redisUrl: string;
  n: number;
  batchSize: number;
}

export const MEMORY_DEFAULTS = { n: 100_000, batchSize: 10 };

export async function memorySection(options: MemoryOptions): Promise<SectionResult> {
  const began = performance.now();
  const llm = await startFakeLlm(0);
  try {
    // As shipped (WORKER_HEAP_GROWTH_PERCENT at its default), then with V8's own heap growth, in the same run.
    const plain = await runOnce(options, llm, {});
    const v8Default = await runOnce(options, llm, { WORKER_HEAP_GROWTH_PERCENT: '0' });
    const many = await manyJobs(options);
    const section = '6 memory';
    return {
      name: 'memory',
      rows: [
        {
          section,
          measure: `peak RSS of a worker process, one job of N=${fmt.int(options.n)}`,
          value: fmt.mb(plain.peakMb),
          versus: `idle worker ${fmt.mb(plain.idleMb)}; the job ${fmt.s(plain.seconds, 1)}, worker CPU ${fmt.s(plain.cpuSeconds, 1)}`,
          target: '< 300 MB',
          met: plain.peakMb < 300,
        },
        {
          section,
          measure: "the same with V8's own heap growth (WORKER_HEAP_GROWTH_PERCENT=0)",
          value: fmt.mb(v8Default.peakMb),
          versus: `the job ${fmt.s(v8Default.seconds, 1)}, worker CPU ${fmt.s(v8Default.cpuSeconds, 1)}`,
          ratio: `${fmt.num(v8Default.peakMb / plain.peakMb, 2)}x the peak`,
        },
        {
          section,
          measure: `heap of a worker after a full GC, after ${MANY_FIRST} and after ${MANY_TOTAL} jobs of N=${MANY_N}`,
          value: `${fmt.mb(many.afterFirstMb)} / ${fmt.mb(many.afterAllMb)}`,
          versus: `${fmt.mb(many.afterAllMb - many.afterFirstMb)} more after ${MANY_TOTAL - MANY_FIRST} more jobs`,
          target: 'no growth with jobs run',
          met: many.afterAllMb - many.afterFirstMb < 5,
        },
      ],
      notes: [
        `Memory: VmHWM (peak resident set, Linux /proc) of a worker process (\`node apps/worker/dist/main.js\`, WORKER_CONCURRENCY=1) that ran one job of ${fmt.int(options.n)} inputs ` +
          `against the instant fake LLM: ${fmt.s(plain.seconds, 1)} (${fmt.int(options.n / plain.seconds)} inputs/s in its own process), RSS at the end ${fmt.mb(plain.endMb)}. ` +
          'What the job really holds near its end (inputs, dedup index) is about 110 MB (50 MB of heap after a full GC, 60 MB of typed arrays, measured separately); ' +
          "the rest of the peak is V8 letting its heap grow between full collections, fed by each LLM call's garbage (mostly the SDK's fetch). " +
          'On a host with a lot of memory V8 lets it grow to 4x what the last full collection kept; the worker sets V8\'s --heap-growing-percent ' +
          'to WORKER_HEAP_GROWTH_PERCENT (default 50, apps/worker/src/main.ts), which bounds the peak without a heap cap that could crash a worker holding more.',
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await llm.close();
  }
}

const MANY_FIRST = 50;
const MANY_TOTAL = 300;
const MANY_N = 20;

/**
 * Does a worker's memory grow with the number of jobs it has run? A worker
 * runs in this process (offline generator, no LLM garbage), and the heap is
 * read after a full collection, once after a first round of jobs and again
 * after many more: RSS alone would show V8's headroom, not what is held.
 */
async function manyJobs(options: MemoryOptions): Promise<{ afterFirstMb: number; afterAllMb: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the bench with node --expose-gc (npm run bench does)');
  const namespace = `benchmany${Date.now().toString(36)}`;
  const config = loadConfig({
    REDIS_URL: options.redisUrl,
    QUEUE_NAME: namespace,
    KEY_PREFIX: namespace,
    WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'silent',
    METRICS_PORT: '0',
  });
  const redis = new Redis(options.redisUrl);
  const queue = createQueue(namespace, namespace, redis);
  const jobs = new JobService(new JobStore(redis, namespace, 1), queue, { retentionHours: 1, price: null });
  const worker = await startGenerationWorker(config, new OfflineGenerator({ seed: 1 }), createLogger('bench', 'silent'));
  const round = async (count: number): Promise<number> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const request = startJobSchema(MANY_N).parse({
        application_description: "Write a children's story communicating a simple life lesson.",
        num_inputs_to_generate: MANY_N,
        seeds: ['Write a story about a brave little turtle who learns to share.'],
        batch_size: options.batchSize,
      });
      ids.push((await jobs.submit('bench', request)).status.job_id);
    }
    for (const jobId of ids) {
      while ((await jobs.current(jobId))?.read.job.state == null) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    gc();
    gc();
    return process.memoryUsage().heapUsed / (1024 * 1024);
  };
  try {
    const afterFirstMb = await round(MANY_FIRST);
    const afterAllMb = await round(MANY_TOTAL - MANY_FIRST);
    return { afterFirstMb, afterAllMb };
  } finally {
    await worker.close(5_000);
    await queue.close();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  }
}

async function runOnce(
  options: MemoryOptions,
  llm: FakeLlm,
  env: Record<string, string>,
): Promise<{ peakMb: number; idleMb: number; endMb: number; seconds: number; cpuSeconds: number }> {
  const service = await startService('memory', options.redisUrl, llm, { WORKER_CONCURRENCY: '1' });
  try {
    const worker = await service.spawnWorker(env);
    const idle = processMemory(worker.pid);
    const idleCpu = processCpuSeconds(worker.pid) ?? NaN;
    const start = performance.now();
    const jobId = await service.submit({ num_inputs_to_generate: options.n, batch_size: options.batchSize });
    let sampled = 0;
    const sampler = setInterval(() => {
      const m = processMemory(worker.pid);
      if (m !== null) sampled = Math.max(sampled, m.rssMb);
    }, 250);
    let states: Map<string, string>;
    try {
      states = await service.waitForEnd([jobId], 600_000);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - start) / 1000;
    const end = processMemory(worker.pid);
    const cpuSeconds = (processCpuSeconds(worker.pid) ?? NaN) - idleCpu;
    if (states.get(jobId) !== 'DONE') throw new Error(`the memory job ended ${states.get(jobId)}`);
    if (end === null) throw new Error('cannot read /proc/<pid>/status of the worker (Linux only)');
    return { peakMb: Math.max(end.peakMb, sampled), idleMb: idle?.rssMb ?? NaN, endMb: end.rssMb, seconds, cpuSeconds };
  } finally {
    await service.close();
  }
}
