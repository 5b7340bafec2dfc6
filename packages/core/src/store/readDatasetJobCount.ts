import { datasetKeys } from './keys';
import type { StoreContext } from './status';

/** How many of the dataset's inputs a job wrote. */
export async function readDatasetJobCount(ctx: StoreContext, tenant: string, name: string, jobId: string): Promise<number> {
  return Number((await ctx.redis.hget(datasetKeys(ctx.prefix, tenant, name).jobs, jobId)) ?? 0);
}
