import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { JobState } from './api';

/**
 * The BullMQ queue shared by the API (which adds jobs) and the workers
 * (which take them). A BullMQ job carries only our job id; the request and
 * everything the job produces live in the job store.
 */

export interface GenerationJobData {
  jobId: string;
}

/** `{...}` makes all of one queue's keys share a Redis Cluster slot, as BullMQ requires there. */
export function queuePrefix(keyPrefix: string): string {
  return `{${keyPrefix}-queue}`;
}

/**
 * The API's Redis client fails fast: no offline queue, one try per command,
 * so a request answers 503 at once when Redis is unreachable.
 */
export function apiRedisOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
}

/** Workers wait for Redis to come back instead of failing: BullMQ requires maxRetriesPerRequest null. */
export function workerRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  };
}

export function connect(redisUrl: string, options: RedisOptions): Redis {
  return new Redis(redisUrl, options);
}

export function createQueue(name: string, keyPrefix: string, connection: ConnectionOptions): Queue<GenerationJobData> {
  return new Queue<GenerationJobData>(name, { connection, prefix: queuePrefix(keyPrefix) });
}

export function jobOptions(jobId: string, retentionHours: number): JobsOptions {
  const age = Math.round(retentionHours * 3600);
  return {
    jobId,
    // A job that throws (Redis lost mid-write, a worker bug) is retried; the
    // engine resumes from what is stored, so a retry never redoes accepted work.
    attempts: 5,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { age },
    removeOnFail: { age },
  };
}

/** Our state for a BullMQ job state, when the job store has not recorded an end. */
export function stateFromQueue(queueState: string): JobState | 'UNKNOWN' {
  switch (queueState) {
    case 'waiting':
    case 'wait':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
    case 'paused':
      return 'QUEUED';
    case 'active':
      return 'RUNNING';
    case 'completed':
      return 'DONE';
    case 'failed':
      return 'ERROR';
    default:
      return 'UNKNOWN';
  }
}
