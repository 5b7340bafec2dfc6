import { DelayedError, Worker, type Job } from 'bullmq';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import {
  AdaptiveConcurrency,
  cancelChannel,
  configuredModel,
  configuredPrice,
  connect,
  economyOptions,
  estimateCost,
  jobUsageOf,
  createQueue,
  DatasetFullError,
  failedMessage,
  JobService,
  keyLabel,
  type JobRun,
  countBatch,
  createMetrics,
  describeRedis,
  MeteredProvider,
  duplicateConnection,
  JobOwnershipLostError,
  JobStore,
  RedisWatch,
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
  type Price,
  type RedisClient,
} from '@datagen/core';
import { boardSink, logEnd } from './board';
import { startWebhooks } from './webhooks';

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
  // One line when Redis is missing at startup or goes away, not one per reconnect attempt.
  const watch = new RedisWatch(redis, logger, describeRedis(config.redisNodes));
  const store = new JobStore(redis, config.keyPrefix, config.job.retentionHours);
  const webhooks = startWebhooks(config, redis, store, logger);
  // The worker's half of the job service: claim, record, finish (its queue is only read, for settling).
  const jobs = new JobService(store, createQueue(config.queueName, config.keyPrefix, redis), {
    retentionHours: config.job.retentionHours,
    price: configuredPrice(config),
    model: configuredModel(config),
    economy: economyOptions(config, provider),
    onEnded: (state) => metrics.jobsFinished.inc({ state }),
    datasetMaxItems: config.job.datasetMaxItems,
    onJobEnded: webhooks.notifier.jobEnded,
  });
  // One rate limit for all workers (buckets in Redis), and calls in flight that back off on 429s.
  const { requestsPerMinute, tokensPerMinute, maxConcurrency } = config.llmLimits;
  const llm = new RateLimitedProvider(metered, {
    limiter: new SharedRateLimiter(redis, { keyPrefix: config.keyPrefix, requestsPerMinute, tokensPerMinute, fairShare: config.tenancy.llmFairShare }),
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
  // Each running job listens to it once: more than Node's default of 10 at once is no leak.
  setMaxListeners(config.worker.concurrency + 1, shutdown.signal);

  // On a cluster, PUBLISH reaches the subscribers of every node.
  const subscriber: RedisClient = duplicateConnection(redis);
  subscriber.on('error', () => undefined); // reported by the main connection
  await subscriber.subscribe(cancelChannel(config.keyPrefix));
  subscriber.on('message', (_channel, jobId: string) => running.get(jobId)?.abort());

  async function process(job: Job<GenerationJobData>, token?: string): Promise<void> {
    const { jobId } = job.data;
    const log = logger.child({ jobId });
    // The lock token is this run's owner token: a worker that lost the job (stalled, then taken over) writes nothing more.
    const start = await jobs.startRun(jobId, token ?? `${job.id}:${job.attemptsMade}:${job.timestamp}`, {
      stalls: job.stalledCounter ?? 0,
      maxWithoutProgress: config.worker.maxStallsWithoutProgress,
    });
    if (start.kind === 'over') {
      if (start.state === null) return log.warn('job record has expired; nothing to do');
      // Its end event again, in case the run that ended it died before queueing it (the event id makes this a no-op otherwise).
      await webhooks.notifier.jobEnded(jobId, start.state);
      return log.info({ state: start.state }, 'job already over (ended, or cancelled before it started)');
    }
    const { run } = start;
    const controller = new AbortController();
    running.set(jobId, controller);

    log.info({ resumedAt: run.stored.length, attempt: job.attemptsMade + 1 }, 'job started');
    const mode = run.record.request.economy === true ? 'economy' : 'interactive';
    const held = Date.now();
    try {
      const { economy } = run.record;
      const outcome = await runGeneration(
        { jobId, request: run.record.request, accepted: [...run.stored], generatedSeeds: run.record.generatedSeeds, themes: run.record.themes, taken: start.taken, economy },
        llm.forTenant(run.record.tenant, () => metrics.keyLlmCalls.inc({ key: keyLabel(run.record.tenant) })),
        boardSink(countingSink(run, metrics, jobs.options.price, mode), run, job, webhooks.notifier),
        {
          maxParallelBatches: config.job.maxParallelBatches,
          maxBarrenBatches: config.job.maxBarrenBatches,
          maxFailedCalls: config.job.maxFailedCalls,
          themes: true,
          critic: config.job.critic,
          random: seededRandom(seedFromString(`${jobId}:${job.attemptsMade}:${run.stored.length}:${economy?.round ?? 0}`)),
          ...(provider.batches !== undefined && { economy: { batches: provider.batches, ...config.economy } }),
        },
        controller.signal,
        shutdown.signal,
      );
      if (outcome.state === 'INTERRUPTED') {
        // Back to the queue at once (not after a stall timeout), without using up an attempt.
        await run.handBack(outcome.message);
        await job.moveToDelayed(Date.now(), token);
        log.info('job handed back to the queue');
        throw new DelayedError();
      }
      if (outcome.state === 'WAITING') {
        // Economy mode: the provider's batch is running. The job leaves this worker and comes back after the delay, on any worker.
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        log.info({ delayMs: outcome.delayMs }, 'economy job waits for its provider batch');
        throw new DelayedError();
      }
      const state = await run.finish(outcome.state, outcome.message);
      await logEnd(job, outcome.message);
      log.info({ state }, 'job ended');
    } catch (error) {
      if (error instanceof JobOwnershipLostError && error.reason === 'ended') return log.info('job ended elsewhere; stopping');
      // Its dataset is full: the job ends ERROR with what it has (retrying would not help).
      if (error instanceof DatasetFullError) {
        await jobs.failOutsideEngine(jobId, `${error.message} Kept ${run.stored.length} of ${run.record.target} inputs.`);
        return log.warn({ dataset: error.dataset }, 'dataset full; job ended');
      }
      // Anything else (another run owns the job, Redis lost mid-write) fails this
      // attempt; BullMQ retries it and the retry resumes from what is stored.
      throw error;
    } finally {
      running.delete(jobId);
      metrics.jobHoldSeconds.inc({ mode }, (Date.now() - held) / 1000);
    }
  }

  const worker = new Worker<GenerationJobData>(config.queueName, process, {
    connection: redis,
    prefix: queuePrefix(config.keyPrefix),
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    // A job resumes from what it stored, so a worker dying under it costs little.
    // BullMQ counts a job's stalls over its whole life, which failed long jobs
    // that kept progressing through many worker deaths; the claim (claimJob.lua)
    // counts them since the job's last new input instead (WORKER_MAX_STALLS), so
    // one that keeps killing its workers without progress still ends. BullMQ's
    // own count stays only as a far backstop.
    maxStalledCount: 1000,
  });
  worker.on('error', (err) => watch.report(err, 'worker error'));
  // A job BullMQ will not retry (last attempt failed, or stalled too often) ends ERROR, keeping what it stored.
  worker.on('failed', (job, err) => {
    if (job === undefined) return;
    logger.error({ jobId: job.data.jobId, attempt: job.attemptsMade, err: err.message }, 'job attempt failed');
    // finishedOn is set only when BullMQ moved the job to 'failed' for good; a retry leaves it unset.
    if (job.finishedOn !== undefined) {
      void jobs.failOutsideEngine(job.data.jobId, failedMessage(job.attemptsMade, err.message)).catch(() => undefined);
    }
  });

  return {
    worker,
    llm,
    async close(graceMs: number) {
      shutdown.abort();
      webhooks.stopDelivering();
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
      await jobs.queue.close().catch(() => undefined);
      watch.close();
      await webhooks.close(graceMs);
      // Never under a BullMQ worker still closing: its job's completion would
      // meet a closed connection, and BullMQ retries that without a pause while
      // it closes, which starves the event loop of a process that lives on
      // (the bench's, a test's). The worker process exits after close anyway.
      if (timedOut) void closing.finally(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

/** The run as the engine's sink, counting each recorded batch (inputs, cost) in the worker's metrics once Redis has it. */
function countingSink(run: JobRun, metrics: Metrics, price: Price | null, mode: 'economy' | 'interactive'): JobSink {
  return {
    recordBatch: async (batch) => {
      const answer = await run.recordBatch(batch);
      countBatch(metrics, batch.accepted.length, batch.counts);
      const usage = jobUsageOf(batch);
      const cost = estimateCost(usage, price);
      if (cost !== null) {
        metrics.llmCostUsd.inc({ mode }, cost.costUsd);
        metrics.llmDiscountUsd.inc(cost.discountUsd);
      }
      metrics.llmCacheTokens.inc({ kind: 'read' }, usage.cacheReadTokens ?? 0);
      metrics.llmCacheTokens.inc({ kind: 'write' }, usage.cacheWriteTokens ?? 0);
      return answer;
    },
    saveEconomy: (state, message) => run.saveEconomy(state, message),
    message: (text) => run.message(text),
    saveGeneratedSeeds: (seeds) => run.saveGeneratedSeeds(seeds),
    saveThemes: (themes) => run.saveThemes(themes),
    ...(run.takeTurn !== undefined && { takeTurn: run.takeTurn }),
  };
}

