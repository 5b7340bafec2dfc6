import { datasetKeys, tenantKeys } from './keys';
import type { StoreContext } from './status';

/** Deletes a dataset: its inputs and figures, and its entry in the tenant's list. */
export async function deleteDataset(ctx: StoreContext, tenant: string, name: string): Promise<void> {
  const k = datasetKeys(ctx.prefix, tenant, name);
  await ctx.redis.del(k.items, k.meta, k.jobs, k.lock, k.open);
  await ctx.redis.zrem(tenantKeys(ctx.prefix, tenant).datasets, name);
}
