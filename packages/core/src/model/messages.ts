/** The words a job's lifecycle says, written once here for the API and the worker alike. */

export const QUEUED_MESSAGE = 'Queued: waiting for a worker.';

/** Said when a job queues behind earlier unfinished jobs of its key (fair scheduling). */
export function waitingTurnMessage(rank: number): string {
  const ahead = rank - 1;
  return `Waiting for its turn: ${ahead} earlier unfinished job${ahead === 1 ? '' : 's'} of this key go${ahead === 1 ? 'es' : ''} first; keys take turns, so other keys' jobs may start before it.`;
}

/** A cancelled job's last message, saying what it kept. */
export function cancelledMessage(kept: number, target: number): string {
  if (kept === 0) return 'Cancelled before any input was generated.';
  return `Cancelled; kept ${kept} of ${target} input${target === 1 ? '' : 's'}.`;
}

export function failedMessage(attempts: number, reason: string): string {
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return `Stopped by an internal error after ${tries}: ${reason}. The inputs generated so far are kept.`;
}

/** The end of a job whose workers kept dying (or losing it) while it stored nothing new. */
export function stalledOutMessage(stalls: number): string {
  return `Stopped: the job lost its worker ${stalls} times in a row without storing a new input (a worker crashed, was killed, or stopped answering while running it). The inputs generated so far are kept.`;
}

export function handedBackMessage(stored: number, target: number): string {
  return `Interrupted: the worker is shutting down with ${stored} of ${target} inputs stored; another worker resumes the job.`;
}
