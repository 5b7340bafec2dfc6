import { indexEnd } from './indexEnd';
import { jobKeys, tenantKeys } from './keys';
import type { StoreContext } from './status';

/** Removes a job that could not be queued, and its index entries and quota count, so it does not linger as a ghost. */
export async function discardJob(ctx: StoreContext, jobId: string, tenant: string): Promise<void> {
  const k = jobKeys(ctx.prefix, jobId);
  await ctx.redis.del(k.meta, k.data, k.messages, k.rejected);
  // The tenant's keys share another slot: commands of their own.
  await indexEnd(ctx, tenant, jobId, null, 0);
  await ctx.redis.zrem(tenantKeys(ctx.prefix, tenant).all, jobId);
}
