import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config, GenerationJobData, JobStore, Metrics, RedisClient } from '@datagen/core';

/** What the routes need, built once at startup. */
export interface ApiContext {
  config: Config;
  /** One Redis server or a Redis Cluster (`REDIS_MODE`). */
  redis: RedisClient;
  store: JobStore;
  queue: Queue<GenerationJobData>;
  logger: Logger;
  metrics: Metrics;
  /** The longest a request waits on Redis before answering 503. */
  redisTimeoutMs: number;
  /** Redis connections of open streams, closed on shutdown. */
  openStreams: Set<RedisClient>;
}
