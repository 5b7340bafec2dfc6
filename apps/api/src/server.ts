import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  apiRedisOptions,
  configuredModel,
  configuredPrice,
  connect,
  createProvider,
  economyOptions,
  createMetrics,
  createQueue,
  describeRedis,
  JobService,
  JobStore,
  RedisWatch,
  ReportThread,
  type Config,
  type Quota,
} from '@datagen/core';
import { createWebhookQueue, WebhookNotifier } from '@datagen/core';
import { createApp } from './app';
import { tenantOf } from './auth';
import type { ApiContext } from './context';

export interface ApiServer {
  server: Server;
  url: string;
  ctx: ApiContext;
  /** Stops accepting requests, ends open streams, closes Redis. */
  close(): Promise<void>;
}

/** `host`: the address to listen on (HOST; all interfaces by default, as a container needs). */
export async function startApiServer(config: Config, logger: Logger, host = config.host): Promise<ApiServer> {
  const redis = connect(config, apiRedisOptions());
  // One line when Redis is missing at startup or goes away, not one per reconnect attempt.
  const watch = new RedisWatch(redis, logger, describeRedis(config.redisNodes));
  const queue = createQueue(config.queueName, config.keyPrefix, redis);
  const metrics = createMetrics('api');
  // Reports of jobs the API ends (a cancelled queued job, a settled one) are measured off the event loop.
  const reports = new ReportThread();
  const store = new JobStore(redis, config.keyPrefix, config.job.retentionHours);
  // The webhook events of the jobs the API ends (a cancelled queued job, a settled one); workers deliver them.
  const webhookQueue = createWebhookQueue(config.queueName, config.keyPrefix, redis);
  const webhooks = new WebhookNotifier(webhookQueue, store, config.webhooks, configuredPrice(config), logger);
  const jobs = new JobService(store, queue, {
    retentionHours: config.job.retentionHours,
    price: configuredPrice(config),
    model: configuredModel(config),
    // The provider only for its batch API: whether economy jobs can run, and cancelling a waiting one's batch.
    economy: economyOptions(config, createProvider(config.llm)),
    onEnded: (state) => metrics.jobsFinished.inc({ state }),
    onJobEnded: webhooks.jobEnded,
    measureReport: reports.measure,
    scheduling: config.tenancy.scheduling,
    quotaOf: quotasByTenant(config),
    datasetMaxItems: config.job.datasetMaxItems,
  });
  const ctx: ApiContext = { config, redis, jobs, queue, webhookQueue, logger, metrics, redisTimeoutMs: 3_000 };
  ctx.queue.on('error', (err) => watch.report(err, 'queue error'));
  webhookQueue.on('error', (err) => watch.report(err, 'webhook queue error'));
  // Serve as soon as Redis answers; if it does not yet, start anyway (requests answer 503 until it does).
  await waitUntilReady(redis, 5_000);
  const server = createApp(ctx).listen(config.port, host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  // Beside the traffic, not before it: jobs stored by an earlier version join the lists by state.
  void jobs
    .indexEarlierJobs()
    .then((indexed) => indexed !== null && indexed > 0 && logger.info({ indexed }, 'jobs of an earlier version indexed by state'))
    .catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not index the jobs of an earlier version (the next start tries again)'));

  return {
    server,
    url: `http://127.0.0.1:${port}`,
    ctx,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      ctx.jobs.closeFollows(); // streams end; clients reconnect elsewhere
      server.closeIdleConnections();
      await ctx.queue.close().catch(() => undefined);
      await webhookQueue.close().catch(() => undefined);
      await reports.close();
      watch.close();
      redis.disconnect();
      await closed;
    },
  };
}

function waitUntilReady(redis: ApiContext['redis'], timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

/** Each tenant's quotas: the defaults (QUOTA_*), with KEY_QUOTAS's overrides for its key. */
function quotasByTenant(config: Config): (tenant: string) => Quota {
  const overrides = new Map(Object.entries(config.tenancy.keyQuotas).map(([key, quota]) => [tenantOf(key), quota]));
  return (tenant) => ({ ...config.tenancy.quota, ...overrides.get(tenant) });
}
