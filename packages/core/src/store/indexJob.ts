import { runScript } from '../redis/scripts';
import { tenantKeys } from './keys';
import { storeScript, type StoreContext } from './status';

const script = storeScript('indexJob');

/** Lists a queued job in its tenant's indexes (every job, open jobs). */
export async function indexJob(ctx: StoreContext, tenant: string, jobId: string, createdAt: number): Promise<void> {
  const t = tenantKeys(ctx.prefix, tenant);
  await runScript(ctx.redis, script, [t.all, t.open], [jobId, createdAt, Date.now() - ctx.retentionMs, ctx.retentionMs]);
}
