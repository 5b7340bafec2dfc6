import { tenantKeys } from './keys';
import type { StoreContext } from './status';

/** How many unfinished jobs a tenant has (its open index). */
export function countOpen(ctx: StoreContext, tenant: string): Promise<number> {
  return ctx.redis.zcard(tenantKeys(ctx.prefix, tenant).open);
}
