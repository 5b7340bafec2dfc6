import type { EconomyState } from '../model/economy';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { oneLine } from './records';
import { MAX_MESSAGES, ownershipError, ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('saveEconomy');

/**
 * Stores an economy job's round state, with a message in the same step;
 * throws JobOwnershipLostError when the job has ended or another run owns it.
 */
export async function saveEconomy(ctx: StoreContext, jobId: string, owner: string, state: EconomyState, message: string | null): Promise<void> {
  const k = jobKeys(ctx.prefix, jobId);
  const args = { owner, economy: JSON.stringify(state), message: message === null ? '' : oneLine(message), max_messages: MAX_MESSAGES, ttl: ctx.retentionMs };
  const status = (await runScript(ctx.redis, script, [k.meta, k.messages], [JSON.stringify(args)])) as number;
  if (status !== ScriptStatus.OK) throw ownershipError(jobId, status);
}
