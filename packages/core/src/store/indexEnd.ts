import type { TerminalState } from '../model/job';
import { runScript } from '../redis/scripts';
import { tenantKeys } from './keys';
import { storeScript, type StoreContext } from './status';

const script = storeScript('indexEnd');

/**
 * Takes a job out of its tenant's open index, releasing its inputs from the
 * tenant's quota, and (when it ended) lists it under its final state.
 * `state` null: the job was discarded or is forgotten. Idempotent; answers
 * whether the job was still open.
 */
export async function indexEnd(ctx: StoreContext, tenant: string, jobId: string, state: TerminalState | null, createdAt: number): Promise<boolean> {
  const t = tenantKeys(ctx.prefix, tenant);
  const args = { job: jobId, state: state ?? '', created_at: createdAt, oldest: Date.now() - ctx.retentionMs, ttl: ctx.retentionMs };
  // KEYS[3] is unused without a state, but a script's keys are fixed (and share the tenant's slot).
  return ((await runScript(ctx.redis, script, [t.open, t.quota, t.ended(state ?? 'DONE')], [JSON.stringify(args)])) as number) === 1;
}
