import { tenantKeys } from './keys';
import type { StoreContext } from './status';

/** The names of a tenant's datasets, oldest first. */
export function listDatasets(ctx: StoreContext, tenant: string): Promise<string[]> {
  return ctx.redis.zrange(tenantKeys(ctx.prefix, tenant).datasets, 0, -1);
}
