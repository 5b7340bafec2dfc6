import type { JobState, TerminalState } from '../model/job';
import type { JobSummary } from '../store/records';

/**
 * The one rule of a job's state. A terminal state comes only from the job
 * store, where the worker writes it once, in the same atomic step as the
 * check of the final data (store/lua/finishJob.lua). BullMQ's state only
 * tells a queued job from a running one, and finds the jobs that left the
 * queue without the store recording an end (they failed outside the engine,
 * or were lost): those are settled, i.e. their end is written to the store
 * (once, like any end) and then read from there. So a read never shows a
 * terminal state that a later read takes back, and never DONE short of N.
 */

/** What BullMQ's state of a job says, for us. */
export type QueueView = 'QUEUED' | 'RUNNING' | 'GONE';

/** BullMQ's job state (Job#getState, Queue#getJobState) as a QueueView. */
export function queueView(bullmqState: string): QueueView {
  switch (bullmqState) {
    case 'waiting':
    case 'wait':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
    case 'paused':
      return 'QUEUED';
    case 'active':
      return 'RUNNING';
    default:
      // completed, failed, unknown: BullMQ is done with it, or has never had it (yet).
      return 'GONE';
  }
}

/**
 * A job that BullMQ no longer holds may be a job the API is still creating
 * (its record and index are written before it is queued): left alone this
 * long after its creation. A submit that takes longer has failed (its Redis
 * calls time out after a few seconds) and removed the job, or died halfway.
 */
export const SETTLE_AFTER_MS = 30_000;

/** What a read makes of a job: its state, or that its end must first be settled from BullMQ's facts. */
export type Resolution = { state: JobState } | { settle: true };

/**
 * The state of a job read from the store (`job`), given BullMQ's view of it
 * read after it. `confirmed`: the store was read again after BullMQ said GONE
 * and still had no end (the end was not simply written in between).
 */
export function resolveState(job: Pick<JobSummary, 'state' | 'createdAt'>, queue: QueueView, confirmed: boolean, now = Date.now()): Resolution | 'read-again' {
  if (job.state !== null) return { state: job.state };
  if (queue !== 'GONE') return { state: queue };
  if (!confirmed) return 'read-again';
  if (now - job.createdAt < SETTLE_AFTER_MS) return { state: 'QUEUED' };
  return { settle: true };
}

/** The end to record for a job BullMQ no longer holds and the store has no end for. */
export function settlement(bullmqState: string, failedReason: string | undefined, cancelRequested: boolean): { state: TerminalState; message: string } {
  if (cancelRequested) return { state: 'CANCELLED', message: '' };
  if (bullmqState === 'failed') {
    return { state: 'ERROR', message: `Stopped by an internal error${failedReason ? `: ${failedReason}` : ''}. The inputs generated so far are kept.` };
  }
  if (bullmqState === 'completed') return { state: 'ERROR', message: 'Stopped: the job left the queue without recording an end. The inputs generated so far are kept.' };
  return { state: 'ERROR', message: 'Stopped: the job was lost from the queue (never queued, or removed). The inputs generated so far are kept.' };
}
