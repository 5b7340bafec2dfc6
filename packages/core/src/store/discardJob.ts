import { jobKeys, tenantKeys } from './keys';
import type { StoreContext } from './status';

/** Removes a job that could not be queued, and its index entries, so it does not linger as a ghost. */
export async function discardJob(ctx: StoreContext, jobId: string, tenant: string): Promise<void> {
  const k = jobKeys(ctx.prefix, jobId);
  const t = tenantKeys(ctx.prefix, tenant);
  await ctx.redis.del(k.meta, k.data, k.messages, k.rejected);
  // The tenant's keys share another slot: a command of their own.
  await ctx.redis.multi().zrem(t.all, jobId).zrem(t.open, jobId).exec();
}
