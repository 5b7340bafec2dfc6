import { datasetKeys } from './keys';
import type { StoreContext } from './status';

/**
 * Takes the dataset's turn for a run (one batch of one job is accepted at a
 * time in a dataset), for `ttlMs` at most; answers whether it got it.
 */
export async function takeDatasetTurn(ctx: StoreContext, tenant: string, name: string, token: string, ttlMs: number): Promise<boolean> {
  return (await ctx.redis.set(datasetKeys(ctx.prefix, tenant, name).lock, token, 'PX', ttlMs, 'NX')) === 'OK';
}
