import type { TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { cancelChannel, jobKeys } from './keys';
import { ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('requestCancel');

export type CancelRequestOutcome = { kind: 'flagged' } | { kind: 'ended'; state: TerminalState } | { kind: 'missing' };

/** Flags the job cancelled (unless it has ended) and tells the workers at once (pub/sub). */
export async function requestCancel(ctx: StoreContext, jobId: string): Promise<CancelRequestOutcome> {
  const [status, detail] = (await runScript(ctx.redis, script, [jobKeys(ctx.prefix, jobId).meta], [ctx.retentionMs])) as [number, string];
  if (status === ScriptStatus.ENDED) return { kind: 'ended', state: detail as TerminalState };
  if (status !== ScriptStatus.OK) return { kind: 'missing' };
  await ctx.redis.publish(cancelChannel(ctx.prefix), jobId);
  return { kind: 'flagged' };
}
