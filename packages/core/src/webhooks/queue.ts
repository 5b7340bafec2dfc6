import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { queuePrefix } from '../queue/queue';
import type { WebhookEvent } from './event';

/**
 * The webhook queue: one BullMQ job per event, delivered by the workers'
 * webhook Worker (apps/worker/src/webhooks.ts) with its own concurrency,
 * never by a generation job. Its keys share the generation queue's hash tag
 * (`queuePrefix`), so each queue sits in one Redis Cluster slot as BullMQ needs.
 */

export interface WebhookJobData {
  /** The event id: the webhook-id header of every attempt. */
  id: string;
  /** Where it goes, decided when it was queued. */
  url: string;
  /** The body, as JSON (the same on every attempt). */
  event: WebhookEvent;
}

export type WebhookQueue = Queue<WebhookJobData>;

export function webhookQueueName(queueName: string): string {
  return `${queueName}-webhooks`;
}

export function createWebhookQueue(queueName: string, keyPrefix: string, connection: ConnectionOptions): WebhookQueue {
  return new Queue<WebhookJobData>(webhookQueueName(queueName), { connection, prefix: queuePrefix(keyPrefix) });
}

/** How long the retries of a job's terminal event go on: about a day. */
export const WEBHOOK_RETRY_SPAN_MS = 24 * 3600 * 1000;
/** A progress event is soon stale: three attempts, then it is dropped. */
export const PROGRESS_ATTEMPTS = 3;

/**
 * BullMQ's exponential backoff waits `baseMs * 2^(n-1)` before retry n, so
 * retries 1..k span `baseMs * (2^k - 1)`: the most retries whose span fits in
 * `spanMs`. With the default base of 10 s: 13 retries (14 attempts), the last
 * 22 h 45 min after the first attempt.
 */
export function webhookRetries(baseMs: number, spanMs = WEBHOOK_RETRY_SPAN_MS): { attempts: number; delaysMs: number[]; lastAttemptAfterMs: number } {
  const retries = Math.max(0, Math.floor(Math.log2(spanMs / baseMs + 1)));
  const delaysMs = Array.from({ length: retries }, (_, i) => baseMs * 2 ** i);
  return { attempts: retries + 1, delaysMs, lastAttemptAfterMs: delaysMs.reduce((a, b) => a + b, 0) };
}

/** BullMQ options of one event's delivery: the event id as the job id, its attempts, and how long it is kept. */
export function webhookJobOptions(id: string, progress: boolean, retryBaseMs: number): JobsOptions {
  const hour = 3600;
  return {
    jobId: id,
    attempts: progress ? PROGRESS_ATTEMPTS : webhookRetries(retryBaseMs).attempts,
    backoff: { type: 'exponential', delay: retryBaseMs },
    // Kept while a second queueing of the same event could come (the id makes it a no-op), and for ops to look at.
    removeOnComplete: progress ? { age: hour, count: 10_000 } : { age: 24 * hour, count: 10_000 },
    removeOnFail: { age: 7 * 24 * hour },
    keepLogs: 50,
  };
}
