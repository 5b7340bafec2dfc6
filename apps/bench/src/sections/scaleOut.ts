import { performance } from 'node:perf_hooks';
import { rateLimitKey } from '@datagen/core';
import { startFakeLlm, type FakeLlm } from '../fakeLlmServer';
import { startService } from '../service';
import { fmt, type Row, type SectionResult } from '../table';

/**
 * 5. Scale-out: 1, 2 and 4 worker processes (`node apps/worker/dist/main.js`)
 * on the same 40 jobs with a 200 ms LLM; jobs per minute and the ratio to
 * one worker. Then the same with a shared LLM_REQUESTS_PER_MINUTE below what
 * 4 workers would do, which must cap the throughput.
 */
export interface ScaleOutOptions {
  redisUrl: string;
  jobs: number;
  n: number;
  batchSize: number;
  latencyMs: number;
  workerCounts: number[];
  /** Jobs each worker process runs at once (WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** LLM calls in flight per job (JOB_MAX_PARALLEL_BATCHES). */
  inFlight: number;
  /** LLM_REQUESTS_PER_MINUTE of the capped runs. */
  requestsPerMinute: number;
}

export const SCALE_OUT_DEFAULTS = {
  jobs: 40,
  n: 200,
  batchSize: 10,
  latencyMs: 200,
  workerCounts: [1, 2, 4],
  // 40 jobs fill 5 slots a worker in 8, 4 and 2 equal waves: the ratios are not blurred by a last, half-empty wave.
  workerConcurrency: 5,
  inFlight: 4,
  // Between what 1 worker calls (5 x 4 calls of 200 ms in flight: at most 6,000/min) and what 2 or 4 would.
  requestsPerMinute: 7_200,
};

interface RunResult {
  workers: number;
  seconds: number;
  jobsPerMinute: number;
  callsPerMinute: number;
  calls: number;
}

export async function scaleOutSection(options: ScaleOutOptions): Promise<SectionResult> {
  const began = performance.now();
  const llm = await startFakeLlm(options.latencyMs);
  try {
    const free: RunResult[] = [];
    for (const workers of options.workerCounts) free.push(await runOnce(options, llm, workers, 0));
    const capped: RunResult[] = [];
    for (const workers of options.workerCounts) capped.push(await runOnce(options, llm, workers, options.requestsPerMinute));

    const section = '5 scale-out';
    const base = free[0]!;
    const perWorkerCalls = (60_000 / options.latencyMs) * options.workerConcurrency * options.inFlight;
    const rows: Row[] = free.map((r) => ({
      section,
      measure: `${r.workers} worker process${r.workers === 1 ? '' : 'es'}, ${options.jobs} jobs, LLM ${options.latencyMs} ms, no rate limit`,
      value: `${fmt.int(r.jobsPerMinute)} jobs/min`,
      versus: r === base ? `${fmt.int(r.callsPerMinute)} LLM calls/min` : `1 worker ${fmt.int(base.jobsPerMinute)} jobs/min`,
      ratio: fmt.ratio(r.jobsPerMinute / base.jobsPerMinute),
      target: r === base ? undefined : `~${r.workers}x`,
    }));
    const cappedBase = capped[0]!;
    for (const r of capped) {
      const limit = options.requestsPerMinute;
      // The cap holds when the calls per minute stay at or under the limit (a little over: bucket refill during the first ms).
      const held = r.callsPerMinute <= limit * 1.05;
      rows.push({
        section,
        measure: `${r.workers} worker process${r.workers === 1 ? '' : 'es'}, LLM_REQUESTS_PER_MINUTE=${fmt.int(limit)}`,
        value: `${fmt.int(r.jobsPerMinute)} jobs/min`,
        versus: `${fmt.int(r.callsPerMinute)} LLM calls/min`,
        ratio: fmt.ratio(r.jobsPerMinute / cappedBase.jobsPerMinute),
        target: `calls/min <= ${fmt.int(limit)}`,
        met: held,
      });
    }
    const limitedShare = options.requestsPerMinute / (perWorkerCalls * Math.max(...options.workerCounts));
    return {
      name: 'scale-out',
      rows,
      notes: [
        `Scale-out: ${options.jobs} jobs of N=${options.n} (batch ${options.batchSize}) submitted at once through the API; the workers are separate processes ` +
          `(WORKER_CONCURRENCY=${options.workerConcurrency}, JOB_MAX_PARALLEL_BATCHES=${options.inFlight}, so up to ${options.workerConcurrency * options.inFlight} calls in flight each, ` +
          `${fmt.int(perWorkerCalls)} calls/min per worker at ${options.latencyMs} ms); time from the first POST to the last DONE. ` +
          `Runs without a limit: ${free.map((r) => `${r.workers}: ${fmt.s(r.seconds, 1)}, ${r.calls} calls`).join('; ')}.`,
        `Rate limit: LLM_REQUESTS_PER_MINUTE=${fmt.int(options.requestsPerMinute)} (${fmt.pct(limitedShare, 0)} of what ${Math.max(...options.workerCounts)} workers would call), ` +
          'shared by all workers through Redis (packages/core/src/llm/rateLimit.ts). Before each capped run the shared bucket is emptied, as in a service that has been busy; ' +
          `a fresh bucket first lets a 10-second burst through. Capped runs: ${capped.map((r) => `${r.workers}: ${fmt.s(r.seconds, 1)}, ${r.calls} calls`).join('; ')}.`,
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await llm.close();
  }
}

async function runOnce(options: ScaleOutOptions, llm: FakeLlm, workers: number, requestsPerMinute: number): Promise<RunResult> {
  const service = await startService(`scale${workers}`, options.redisUrl, llm, {
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    JOB_MAX_PARALLEL_BATCHES: String(options.inFlight),
    LLM_REQUESTS_PER_MINUTE: String(requestsPerMinute),
    LLM_MAX_CONCURRENCY: String(options.workerConcurrency * options.inFlight),
  });
  try {
    await Promise.all(Array.from({ length: workers }, () => service.spawnWorker()));
    if (requestsPerMinute > 0) await emptyBucket(service.redis, rateLimitKey(service.ns));
    const callsBefore = (await llm.stats()).calls;
    const start = performance.now();
    const ids = await Promise.all(Array.from({ length: options.jobs }, () => service.submit({ num_inputs_to_generate: options.n, batch_size: options.batchSize })));
    const states = await service.waitForEnd(ids, 600_000);
    const seconds = (performance.now() - start) / 1000;
    const calls = (await llm.stats()).calls - callsBefore;
    const notDone = [...states.values()].filter((s) => s !== 'DONE').length;
    if (notDone > 0) throw new Error(`${notDone} scale-out jobs did not end DONE`);
    return { workers, seconds, jobsPerMinute: (options.jobs / seconds) * 60, callsPerMinute: (calls / seconds) * 60, calls };
  } finally {
    await service.close();
  }
}

/** Sets the shared request bucket to empty, now (Redis time), as the limiter's script stores it. */
async function emptyBucket(redis: import('@datagen/core').RedisClient, key: string): Promise<void> {
  const [seconds, micros] = await redis.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  await redis.multi().hset(key, 'r', '0', 'rt', String(now)).pexpire(key, 600_000).exec();
}
