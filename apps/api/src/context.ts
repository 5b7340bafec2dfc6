import type { Logger } from 'pino';
import type { Config, GenerationQueue, JobService, Metrics, RedisClient, WebhookQueue } from '@datagen/core';

/** What the routes need, built once at startup. */
export interface ApiContext {
  config: Config;
  /** One Redis server or a Redis Cluster (`REDIS_MODE`), for health checks. */
  redis: RedisClient;
  /** The job lifecycle: every route goes through it. */
  jobs: JobService;
  /** The queue, for bull-board and its Prometheus metrics. */
  queue: GenerationQueue;
  /** The webhook deliveries, for bull-board. */
  webhookQueue: WebhookQueue;
  logger: Logger;
  metrics: Metrics;
  /** The longest a request waits on Redis before answering 503. */
  redisTimeoutMs: number;
}
