import type { TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('claimJob');

export type ClaimOutcome = { kind: 'claimed'; cancelRequested: boolean } | { kind: 'ended'; state: TerminalState } | { kind: 'missing' };

/** Makes `owner` (a run's BullMQ lock token) the job's one writer, unless the job has ended or is gone. */
export async function claimJob(ctx: StoreContext, jobId: string, owner: string): Promise<ClaimOutcome> {
  const [status, detail] = (await runScript(ctx.redis, script, [jobKeys(ctx.prefix, jobId).meta], [owner, ctx.retentionMs])) as [number, string | number];
  if (status === ScriptStatus.OK) return { kind: 'claimed', cancelRequested: detail === 1 };
  if (status === ScriptStatus.ENDED) return { kind: 'ended', state: detail as TerminalState };
  return { kind: 'missing' };
}
