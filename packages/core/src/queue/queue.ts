import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { ExplorationMode } from '../model/job';

/**
 * The BullMQ queue shared by the API (which adds jobs) and the workers
 * (which take them). A BullMQ job carries our job id, and its size and mode
 * for the queue UI (bull-board); the request (prompt, seeds) and everything
 * the job produces live in the job store, and no key is ever here.
 */

export interface GenerationJobData {
  jobId: string;
  /** num_inputs_to_generate, for the queue UI (absent in jobs queued before it was added). */
  n?: number;
  /** exploration_mode, for the queue UI. */
  mode?: ExplorationMode;
}

/** Log lines (the job's messages, written by the worker) BullMQ keeps per job: the newest. */
export const JOB_LOG_LINES = 1_000;

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
    keepLogs: JOB_LOG_LINES,
  };
}
