import type { JobReport, TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { oneLine } from './records';
import { MAX_MESSAGES, ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('finishJob');

export type FinishOutcome =
  | { kind: 'finished'; state: TerminalState; tenant: string; createdAt: number; dataset: string | null }
  | { kind: 'already_ended'; state: TerminalState }
  | { kind: 'missing' }
  | { kind: 'not_owner' }
  /** DONE was asked with fewer inputs stored than the target. */
  | { kind: 'incomplete'; stored: number }
  /** A cancel was accepted: the job may only end CANCELLED. */
  | { kind: 'cancel_requested' };

export interface FinishWrite {
  state: TerminalState;
  message: string;
  report?: JobReport | null;
  /** The run ending it (refused once another run owns the job), or null (the API, a failed job's handler). */
  owner: string | null;
}

/** The one write of a job's terminal state (finishJob.lua says what it checks). */
export async function finishJob(ctx: StoreContext, jobId: string, end: FinishWrite): Promise<FinishOutcome> {
  const k = jobKeys(ctx.prefix, jobId);
  const args = {
    state: end.state,
    message: oneLine(end.message),
    report: end.report == null ? '' : JSON.stringify(end.report),
    owner: end.owner ?? '',
    finished_at: String(Date.now()),
    max_messages: MAX_MESSAGES,
    ttl: ctx.retentionMs,
  };
  const [status, detail, tenant, createdAt, dataset] = (await runScript(ctx.redis, script, [k.meta, k.data, k.messages, k.rejected], [JSON.stringify(args)])) as [
    number,
    string | number,
    string?,
    string?,
    string?,
  ];
  switch (status) {
    case ScriptStatus.OK:
      return { kind: 'finished', state: detail as TerminalState, tenant: tenant!, createdAt: Number(createdAt), dataset: dataset ? dataset : null };
    case ScriptStatus.ENDED:
      return { kind: 'already_ended', state: detail as TerminalState };
    case ScriptStatus.NOT_OWNER:
      return { kind: 'not_owner' };
    case ScriptStatus.INCOMPLETE:
      return { kind: 'incomplete', stored: Number(detail) };
    case ScriptStatus.CANCEL_REQUESTED:
      return { kind: 'cancel_requested' };
    default:
      return { kind: 'missing' };
  }
}
