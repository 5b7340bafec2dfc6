import type { DataGenerationStatus } from '../contract';
import type { JobState, TerminalState } from '../model/job';

/**
 * A webhook event: what the service POSTs about a job, as JSON, signed as
 * the Standard Webhooks spec says (deliver.ts). Built once, when the event is
 * queued, and sent the same on every attempt, under the same webhook-id.
 */

export type WebhookEventType = 'job.done' | 'job.error' | 'job.cancelled' | 'job.progress';

export interface WebhookEvent {
  type: WebhookEventType;
  job_id: string;
  state: JobState;
  num_generated: number;
  num_inputs_to_generate: number;
  /** The job's report as GET /v1/data/generate/{id} shows it (diversity: once ended). */
  report: DataGenerationStatus['report'];
  usage: DataGenerationStatus['usage'];
  /** Paths under the API's address (the event does not know the address clients reach it at). */
  links: { status: string; data: string; items: string };
  /** When the event happened (ISO 8601); the webhook-timestamp header is the attempt's time. */
  timestamp: string;
}

const TERMINAL_TYPES: Readonly<Record<TerminalState, WebhookEventType>> = {
  DONE: 'job.done',
  ERROR: 'job.error',
  CANCELLED: 'job.cancelled',
};

export function terminalEventType(state: TerminalState): WebhookEventType {
  return TERMINAL_TYPES[state];
}

/** The event of `type` about a job as it stands (`status`, without its data). */
export function webhookEvent(type: WebhookEventType, status: DataGenerationStatus, at: Date): WebhookEvent {
  const path = `/v1/data/generate/${status.job_id}`;
  return {
    type,
    job_id: status.job_id,
    state: status.state,
    num_generated: status.num_generated,
    num_inputs_to_generate: status.num_inputs_to_generate,
    report: status.report,
    usage: status.usage,
    links: { status: path, data: `${path}/data`, items: `${path}/items` },
    timestamp: at.toISOString(),
  };
}

/**
 * The event's id, the webhook-id of each attempt and the BullMQ job id of its
 * delivery: one per job and terminal type, one per job and count for progress,
 * so the same event queued twice (two processes, a worker's retry) is queued once.
 */
export function webhookEventId(jobId: string, type: WebhookEventType, numGenerated: number): string {
  const kind = type.slice('job.'.length);
  return type === 'job.progress' ? `msg_${jobId}_${kind}_${numGenerated}` : `msg_${jobId}_${kind}`;
}
