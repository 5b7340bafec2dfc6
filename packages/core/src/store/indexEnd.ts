import type { TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { tenantKeys } from './keys';
import { storeScript, type StoreContext } from './status';

const script = storeScript('indexEnd');

/** Moves an ended job from its tenant's open index to the index of its final state. Idempotent. */
export async function indexEnd(ctx: StoreContext, tenant: string, jobId: string, state: TerminalState, createdAt: number): Promise<void> {
  const t = tenantKeys(ctx.prefix, tenant);
  await runScript(ctx.redis, script, [t.open, t.ended(state)], [jobId, createdAt, Date.now() - ctx.retentionMs, ctx.retentionMs]);
}
