import type { TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('claimJob');

export type ClaimOutcome =
  | { kind: 'claimed'; cancelRequested: boolean }
  | { kind: 'ended'; state: TerminalState }
  | { kind: 'missing' }
  | { kind: 'stalledOut'; stalls: number };

/** How often the job has lost its worker (BullMQ's stall count), and how many such losses in a row without a new input it survives. */
export interface StallCount {
  stalls: number;
  maxWithoutProgress: number;
}

/**
 * Makes `owner` (a run's BullMQ lock token) the job's one writer, unless the
 * job has ended or is gone, or has lost more workers since its last new input
 * than it may (then it is not claimed: the caller ends it).
 */
export async function claimJob(ctx: StoreContext, jobId: string, owner: string, stalls: StallCount): Promise<ClaimOutcome> {
  const k = jobKeys(ctx.prefix, jobId);
  const [status, detail] = (await runScript(ctx.redis, script, [k.meta, k.data], [JSON.stringify({ owner, ttl: ctx.retentionMs, stalls: stalls.stalls, max_stalls: stalls.maxWithoutProgress })])) as [
    number,
    string | number,
  ];
  if (status === ScriptStatus.OK) return { kind: 'claimed', cancelRequested: detail === 1 };
  if (status === ScriptStatus.ENDED) return { kind: 'ended', state: detail as TerminalState };
  if (status === ScriptStatus.STALLED_OUT) return { kind: 'stalledOut', stalls: Number(detail) };
  return { kind: 'missing' };
}
