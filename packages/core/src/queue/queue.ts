import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

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

export type GenerationQueue = Queue<GenerationJobData>;

export function createQueue(name: string, keyPrefix: string, connection: ConnectionOptions): GenerationQueue {
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
