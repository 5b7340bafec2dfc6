import type { DataGenerationStatus, WebhookEventBody } from '../contract';
import type { TerminalState } from '../model/job';

/**
 * A webhook event: what the service POSTs about a job, as JSON, signed as
 * the Standard Webhooks spec says (deliver.ts). Built once, when the event is
 * queued, and sent the same on every attempt, under the same webhook-id.
 */

/** The event's shape is the contract's (webhookEventSchema, also in OpenAPI's `webhooks`). */
export type WebhookEvent = WebhookEventBody;
export type WebhookEventType = WebhookEvent['type'];

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
