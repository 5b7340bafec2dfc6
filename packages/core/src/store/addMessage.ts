import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { oneLine } from './records';
import { MAX_MESSAGES, ownershipError, ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('addMessage');

/**
 * Adds a progress message to a job that has not ended. `owner`: the run
 * writing it (refused once another run owns the job), or null for the API.
 * Throws JobOwnershipLostError when refused.
 */
export async function addMessage(ctx: StoreContext, jobId: string, owner: string | null, text: string): Promise<void> {
  const k = jobKeys(ctx.prefix, jobId);
  const args = { owner: owner ?? '', message: oneLine(text), max_messages: MAX_MESSAGES, ttl: ctx.retentionMs };
  const status = (await runScript(ctx.redis, script, [k.meta, k.messages], [JSON.stringify(args)])) as number;
  if (status !== ScriptStatus.OK) throw ownershipError(jobId, status);
}
