import { createHash } from 'node:crypto';
import { idempotencyKey } from './keys';
import type { StoreContext } from './status';

/** What an Idempotency-Key of a tenant is bound to: the job it created, and a hash of the request. */
export interface IdempotencyClaim {
  jobId: string;
  requestHash: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Claims an Idempotency-Key for a job about to be created. Answers null when
 * the claim is new; otherwise the earlier claim, so a retried request gets
 * the same job. `release` frees a claim whose job could not be created.
 */
export async function claimIdempotencyKey(ctx: StoreContext, tenant: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyClaim | null> {
  const redisKey = idempotencyKey(ctx.prefix, tenant, sha256(key));
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await ctx.redis.set(redisKey, JSON.stringify(claim), 'PX', ctx.retentionMs, 'NX')) === 'OK') return null;
    const earlier = await ctx.redis.get(redisKey);
    if (earlier !== null) return JSON.parse(earlier) as IdempotencyClaim;
    // it expired between the two commands: claim again
  }
  throw new Error('could not claim the Idempotency-Key');
}

/** Undoes claimIdempotencyKey, so a retry may create the job. */
export async function releaseIdempotencyKey(ctx: StoreContext, tenant: string, key: string): Promise<void> {
  await ctx.redis.del(idempotencyKey(ctx.prefix, tenant, sha256(key)));
}
