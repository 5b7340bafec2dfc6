import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import {
  configuredPrice,
  createWebhookQueue,
  queuePrefix,
  webhookProcessor,
  webhookQueueName,
  WebhookNotifier,
  type Config,
  type JobStore,
  type RedisClient,
  type WebhookJobData,
} from '@datagen/core';

/**
 * A worker process's webhooks: the notifier that queues events (the end of
 * the jobs this process ends, progress of those it runs), and the BullMQ
 * Worker that delivers them, apart from the generation Worker and with its
 * own concurrency (WEBHOOK_CONCURRENCY), so a slow receiver never holds a job.
 */
export interface WorkerWebhooks {
  notifier: WebhookNotifier;
  /** Null when this process delivers nothing (no WEBHOOK_SECRET, or WEBHOOK_CONCURRENCY=0). */
  delivery: Worker<WebhookJobData> | null;
  /** Takes no more deliveries; those under way finish (each within WEBHOOK_TIMEOUT_MS). Events can still be queued. */
  stopDelivering(): void;
  /** Waits for the deliveries under way, at most `graceMs`, and closes the queue (an attempt cut short is retried). */
  close(graceMs?: number): Promise<void>;
}

export function startWebhooks(config: Config, redis: RedisClient, store: JobStore, logger: Logger): WorkerWebhooks {
  const settings = config.webhooks;
  const queue = createWebhookQueue(config.queueName, config.keyPrefix, redis);
  queue.on('error', (err) => logger.warn({ err: err.message }, 'webhook queue error'));
  const notifier = new WebhookNotifier(queue, store, settings, configuredPrice(config), logger);
  let delivery: Worker<WebhookJobData> | null = null;
  if (settings.secret !== undefined && settings.concurrency > 0) {
    const processor = webhookProcessor({ secret: settings.secret, allowPrivate: settings.allowPrivate }, logger);
    delivery = new Worker<WebhookJobData>(webhookQueueName(config.queueName), processor, {
      connection: redis,
      prefix: queuePrefix(config.keyPrefix),
      concurrency: settings.concurrency,
    });
    delivery.on('error', (err) => logger.warn({ err: err.message }, 'webhook worker error'));
    delivery.on('failed', (job, err) => {
      if (job === undefined || job.finishedOn === undefined) return; // an attempt; BullMQ retries it
      logger.error({ webhookId: job.data.id, jobId: job.data.event.job_id, attempts: job.attemptsMade, reason: err.message }, 'webhook not delivered; no more attempts');
    });
  }
  let stopping: Promise<void> | null = null;
  const stopDelivering = () => {
    stopping ??= delivery === null ? Promise.resolve() : delivery.close().catch(() => undefined);
  };
  return {
    notifier,
    delivery,
    stopDelivering,
    async close(graceMs = 10_000) {
      stopDelivering();
      await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      await queue.close().catch(() => undefined);
    },
  };
}
