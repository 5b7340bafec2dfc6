import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, GenerationJobData, JobStore } from '@datagen/core';

/** What the routes need, built once at startup. */
export interface ApiContext {
  config: Config;
  redis: Redis;
  store: JobStore;
  queue: Queue<GenerationJobData>;
  logger: Logger;
  /** The longest a request waits on Redis before answering 503. */
  redisTimeoutMs: number;
  /** Redis connections of open streams, closed on shutdown. */
  openStreams: Set<Redis>;
}
