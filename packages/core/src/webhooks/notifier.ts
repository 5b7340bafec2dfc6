import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { JobRequest } from '../contract';
import type { TerminalState } from '../model/job';
import type { Price } from '../model/pricing';
import type { JobStore } from '../store/jobStore';
import type { JobSummary } from '../store/records';
import { buildStatus } from '../jobs/status';
import { webhookUrlProblem } from './address';
import { deliverWebhook, type DeliveryOptions } from './deliver';
import { terminalEventType, webhookEvent, webhookEventId, type WebhookEventType } from './event';
import { webhookJobOptions, type WebhookJobData, type WebhookQueue } from './queue';

export type WebhookSettings = Config['webhooks'];

/**
 * Queues a job's webhook events: the terminal one when the job ends (the
 * job service's `onJobEnded`, in whichever process ended it), and progress
 * events while it runs if the job asked. Queueing is one Redis write, off
 * the generation's path; a failure to queue is logged and never fails the
 * job. The delivery is the webhook Worker's (`webhookProcessor`).
 */
export class WebhookNotifier {
  /** When each run last queued a progress event (keyed by the run: gone with it). */
  private readonly lastProgress = new WeakMap<object, number>();

  constructor(
    readonly queue: WebhookQueue,
    private readonly store: JobStore,
    readonly settings: WebhookSettings,
    private readonly price: Price | null,
    private readonly logger: Logger,
  ) {}

  /** Where a job's events go: its request's URL, else its key's, else the server's; null when none, or nothing can sign. */
  targetOf(tenant: string, request: Pick<JobRequest, 'webhook_url'>): string | null {
    if (this.settings.secret === undefined) return null;
    return request.webhook_url ?? this.settings.urlsByTenant[tenant] ?? this.settings.url ?? null;
  }

  /** The job service's onJobEnded: queues the terminal event. Never throws. */
  readonly jobEnded = async (jobId: string, state: TerminalState): Promise<void> => {
    try {
      const record = await this.store.readRecord(jobId);
      if (record === null) return;
      const url = this.targetOf(record.tenant, record.request);
      if (url === null) return;
      await this.enqueue(url, terminalEventType(state), record, state);
    } catch (error) {
      this.logger.warn({ jobId, state, err: errorText(error) }, 'could not queue the webhook event of an ended job');
    }
  };

  /**
   * A batch of a running job was stored: queues a progress event if the job
   * asked for them and the last one is older than WEBHOOK_PROGRESS_INTERVAL_MS.
   * `run` identifies the run (one worker's), for the interval. Never throws.
   */
  async progress(run: object, job: { jobId: string; tenant: string; request: JobRequest }): Promise<void> {
    if (job.request.webhook_progress !== true) return;
    const url = this.targetOf(job.tenant, job.request);
    if (url === null) return;
    const now = Date.now();
    const last = this.lastProgress.get(run);
    if (last !== undefined && now - last < this.settings.progressIntervalMs) return;
    this.lastProgress.set(run, now);
    try {
      const read = await this.store.read(job.jobId);
      if (read === null || read.job.state !== null) return; // ended meanwhile: its terminal event says it all
      await this.enqueue(url, 'job.progress', read.job, 'RUNNING');
    } catch (error) {
      this.logger.warn({ jobId: job.jobId, err: errorText(error) }, 'could not queue a webhook progress event');
    }
  }

  private async enqueue(url: string, type: WebhookEventType, job: JobSummary, state: TerminalState | 'RUNNING'): Promise<void> {
    const event = webhookEvent(type, buildStatus(job, state, { messages: [], data: null }, this.price), new Date());
    const id = webhookEventId(job.jobId, type, event.num_generated);
    // The id is the BullMQ job id: the same event queued again (another process, a retried run) is not queued twice.
    await this.queue.add(type, { id, url, event }, webhookJobOptions(id, type === 'job.progress', this.settings.retryBaseMs));
  }
}

/**
 * What is wrong with a request's webhook_url on this server, as the API
 * answers it (422) before queueing the job; null when nothing is. Only what
 * needs no DNS: a literal private address (names are checked at each delivery).
 */
export function webhookRequestProblem(request: Pick<JobRequest, 'webhook_url'>, settings: WebhookSettings): string | null {
  if (request.webhook_url === undefined) return null;
  if (settings.secret === undefined) return 'this server sends no webhooks (WEBHOOK_SECRET is not set)';
  return webhookUrlProblem(request.webhook_url, settings.allowPrivate);
}

/**
 * The webhook Worker's processor: one attempt. A 2xx completes the BullMQ
 * job; 410 Gone and a refused target fail it for good (UnrecoverableError,
 * with the reason as its failedReason); anything else fails the attempt, and
 * BullMQ retries it after its backoff.
 */
export function webhookProcessor(options: DeliveryOptions, logger: Logger): (job: Job<WebhookJobData>) => Promise<{ status: number }> {
  return async (job) => {
    const outcome = await deliverWebhook(job.data, options);
    const attempt = job.attemptsMade + 1;
    const about = { webhookId: job.data.id, jobId: job.data.event.job_id, type: job.data.event.type, attempt };
    switch (outcome.kind) {
      case 'delivered':
        await job.log(`attempt ${attempt}: delivered (${outcome.status})`).catch(() => undefined);
        logger.info({ ...about, status: outcome.status }, 'webhook delivered');
        return { status: outcome.status };
      case 'gone':
        await job.log(`attempt ${attempt}: 410 Gone, no more attempts`).catch(() => undefined);
        logger.warn(about, 'webhook receiver answered 410 Gone; not retried');
        throw new UnrecoverableError('the receiver answered 410 Gone: not retried');
      case 'refused':
        await job.log(`attempt ${attempt}: refused: ${outcome.reason}`).catch(() => undefined);
        logger.warn({ ...about, reason: outcome.reason }, 'webhook target refused; not retried');
        throw new UnrecoverableError(`refused: ${outcome.reason}`);
      case 'failed':
        await job.log(`attempt ${attempt}: ${outcome.reason}`).catch(() => undefined);
        logger.info({ ...about, reason: outcome.reason }, 'webhook attempt failed; retried after its backoff');
        throw new Error(outcome.reason);
    }
  };
}

/** A URL as the queue UI shows it: without credentials, query or fragment, which may hold a receiver's token. */
export function redactedUrl(text: string): string {
  try {
    const url = new URL(text);
    const hidden = url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '';
    return `${url.protocol}//${url.host}${url.pathname}${hidden ? ' (credentials, query or fragment hidden)' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
