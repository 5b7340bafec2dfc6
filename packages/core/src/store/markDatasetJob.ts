import { datasetKeys, tenantKeys } from './keys';
import type { StoreContext } from './status';

/**
 * Records that a job of the tenant uses the dataset (`open`: it has not
 * ended; a delete waits for it), and lists the dataset under the tenant.
 * With `open` false, the job has ended. Two slots (the tenant's, the
 * dataset's): two commands.
 */
export async function markDatasetJob(ctx: StoreContext, tenant: string, name: string, jobId: string, open: boolean): Promise<void> {
  const k = datasetKeys(ctx.prefix, tenant, name);
  if (!open) {
    await ctx.redis.srem(k.open, jobId);
    return;
  }
  await ctx.redis.zadd(tenantKeys(ctx.prefix, tenant).datasets, 'NX', Date.now(), name);
  await ctx.redis.sadd(k.open, jobId);
}
