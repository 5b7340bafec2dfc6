import { DelayedError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  AdaptiveConcurrency,
  cancelChannel,
  connect,
  countBatch,
  createMetrics,
  MeteredProvider,
  duplicateConnection,
  JobOwnershipLostError,
  JobStore,
  measureDiversity,
  queuePrefix,
  RateLimitedProvider,
  runGeneration,
  seedFromString,
  seededRandom,
  SharedRateLimiter,
  workerRedisOptions,
  type Config,
  type GenerationJobData,
  type JobSink,
  type LlmProvider,
  type Metrics,
  type RedisClient,
} from '@datagen/core';

/**
 * A worker process: takes jobs from the queue and runs the engine on each,
 * with the job store as its sink. Cancel requests arrive on a pub/sub channel
 * and abort the job's in-flight LLM calls.
 */
export interface GenerationWorker {
  worker: Worker<GenerationJobData>;
  /** The provider as this worker's jobs call it: held to the shared rate limits and this process's adaptive concurrency. */
  llm: RateLimitedProvider;
  /**
   * Stops taking jobs; running jobs launch no new batches, finish the ones in
   * flight and go back to the queue. After `graceMs` the rest are dropped
   * (stall recovery hands them to another worker; nothing stored is lost).
   */
  close(graceMs: number): Promise<void>;
}

export async function startGenerationWorker(
  config: Config,
  provider: LlmProvider,
  logger: Logger,
  metrics: Metrics = createMetrics('worker'),
): Promise<GenerationWorker> {
  const metered = new MeteredProvider(provider, metrics);
  const redis = connect(config, workerRedisOptions());
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const store = new JobStore(redis, config.keyPrefix, config.job.retentionHours);
  // One rate limit for all workers (buckets in Redis), and calls in flight that back off on 429s.
  const { requestsPerMinute, tokensPerMinute, maxConcurrency } = config.llmLimits;
  const llm = new RateLimitedProvider(metered, {
    limiter: new SharedRateLimiter(redis, { keyPrefix: config.keyPrefix, requestsPerMinute, tokensPerMinute }),
    concurrency: new AdaptiveConcurrency(maxConcurrency, {
      onChange: (limit, reason) =>
        reason === 'throttled'
          ? logger.warn({ limit, max: maxConcurrency }, 'the LLM API pushed back (429/529): fewer calls at once')
          : logger.info({ limit, max: maxConcurrency }, 'LLM calls succeed again: more calls at once'),
    }),
  });
  const running = new Map<string, AbortController>();
  /** Fired on shutdown: every running job stops launching batches and goes back to the queue. */
  const shutdown = new AbortController();

  // On a cluster, PUBLISH reaches the subscribers of every node.
  const subscriber: RedisClient = duplicateConnection(redis);
  subscriber.on('error', () => undefined); // reported by the main connection
  await subscriber.subscribe(cancelChannel(config.keyPrefix));
  subscriber.on('message', (_channel, jobId: string) => running.get(jobId)?.abort());

  async function process(job: Job<GenerationJobData>, token?: string): Promise<void> {
    const { jobId } = job.data;
    const log = logger.child({ jobId });
    const record = await store.getRecord(jobId);
    if (record === null) return log.warn('job record has expired; nothing to do');
    if (record.state !== null) return log.info({ state: record.state }, 'job already ended');
    if (record.cancelRequested) {
      await store.finish(jobId, 'CANCELLED', 'Cancelled before it started; no inputs were generated.');
      metrics.jobsFinished.inc({ state: 'CANCELLED' });
      return log.info('job cancelled before it started');
    }

    const accepted = await store.readData(jobId);
    const controller = new AbortController();
    running.set(jobId, controller);
    /** The job's inputs as stored, in order: those a resumed job found, then each batch appended. Its report is measured on them. */
    const stored = [...accepted];
    const sink: JobSink = {
      recordBatch: async (batch) => {
        // The expected position is taken before the write goes out, so
        // concurrent batches append in the order they were accepted.
        const at = stored.length;
        stored.push(...batch.accepted);
        const { cancelRequested } = await store.appendBatch(jobId, at, batch);
        countBatch(metrics, batch.accepted.length, batch.counts);
        return { cancelRequested };
      },
      message: (text) => store.addMessage(jobId, text),
      saveGeneratedSeeds: (seeds) => store.saveGeneratedSeeds(jobId, seeds),
      saveThemes: (themes) => store.saveThemes(jobId, themes),
    };

    log.info({ resumedAt: accepted.length, attempt: job.attemptsMade + 1 }, 'job started');
    try {
      const outcome = await runGeneration(
        { jobId, request: record.request, accepted, generatedSeeds: record.generatedSeeds, themes: record.themes },
        llm,
        sink,
        {
          maxParallelBatches: config.job.maxParallelBatches,
          maxBarrenBatches: config.job.maxBarrenBatches,
          maxFailedCalls: config.job.maxFailedCalls,
          themes: true,
          critic: config.job.critic,
          random: seededRandom(seedFromString(`${jobId}:${job.attemptsMade}:${accepted.length}`)),
        },
        controller.signal,
        shutdown.signal,
      );
      if (outcome.state === 'INTERRUPTED') {
        // Back to the queue at once (not after a stall timeout), without using up an attempt.
        await store.addMessage(jobId, outcome.message);
        await job.moveToDelayed(Date.now(), token);
        log.info('job handed back to the queue');
        throw new DelayedError();
      }
      const report = { diversity: measureDiversity(stored) };
      await store.finish(jobId, outcome.state, outcome.message, report);
      metrics.jobsFinished.inc({ state: outcome.state });
      log.info({ state: outcome.state }, 'job ended');
    } catch (error) {
      if (error instanceof JobOwnershipLostError && error.reason === 'ended') return log.info('job ended elsewhere; stopping');
      // Anything else (a conflicting writer, Redis lost mid-write) fails this
      // attempt; BullMQ retries it and the retry resumes from what is stored.
      throw error;
    } finally {
      running.delete(jobId);
    }
  }

  const worker = new Worker<GenerationJobData>(config.queueName, process, {
    connection: redis,
    prefix: queuePrefix(config.keyPrefix),
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    // A job resumes from what it stored, so a worker dying under it costs little:
    // it survives as many dead workers as it has attempts (BullMQ's default, 1,
    // failed a job on its second). A job that keeps killing its workers still ends.
    maxStalledCount: 5,
  });
  worker.on('error', (err) => logger.warn({ err: err.message }, 'worker error'));
  // A job BullMQ will not retry (last attempt failed, or stalled too often) ends ERROR, keeping what it stored.
  worker.on('failed', (job, err) => {
    if (job === undefined) return;
    logger.error({ jobId: job.data.jobId, attempt: job.attemptsMade, err: err.message }, 'job attempt failed');
    // finishedOn is set only when BullMQ moved the job to 'failed' for good; a retry leaves it unset.
    if (job.finishedOn !== undefined) {
      const attempts = job.attemptsMade === 1 ? '1 attempt' : `${job.attemptsMade} attempts`;
      void store
        .finish(job.data.jobId, 'ERROR', `Stopped by an internal error after ${attempts}: ${err.message}. The inputs generated so far are kept.`)
        .then((ended) => ended && metrics.jobsFinished.inc({ state: 'ERROR' }))
        .catch(() => undefined);
    }
  });

  return {
    worker,
    llm,
    async close(graceMs: number) {
      shutdown.abort();
      const closing = worker.close();
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
      ]);
      if (timedOut) {
        // Stop waiting: the process exits and stall recovery hands what is
        // still running to another worker; everything it accepted is stored.
        // (BullMQ's close(true) would return the close already under way.)
        logger.warn({ running: [...running.keys()] }, 'grace period over; leaving running jobs to another worker');
      }
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}
