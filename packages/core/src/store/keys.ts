/**
 * Redis key layout (docs/redis.md explains it). Every key of one job carries
 * the hash tag {jobId}, so they live in one Redis Cluster slot and one Lua
 * script may touch them all.
 */
export function jobKeys(prefix: string, jobId: string) {
  const base = `${prefix}:job:{${jobId}}`;
  return {
    /** Hash: tenant, request, terminal state, cancel flag, usage counters. */
    meta: `${base}:meta`,
    /** Stream: accepted inputs, entry ids 0-1, 0-2, ... so a stale writer cannot append twice. */
    data: `${base}:data`,
    /** Stream: progress messages, then one `end` entry holding the terminal state. */
    messages: `${base}:messages`,
  };
}

export type JobKeys = ReturnType<typeof jobKeys>;

/** Sorted set of one tenant's job ids, scored by creation time. */
export function tenantJobsKey(prefix: string, tenant: string): string {
  return `${prefix}:tenant:{${tenant}}:jobs`;
}

/** String: the job an Idempotency-Key of a tenant created (the key itself is stored hashed). */
export function idempotencyKey(prefix: string, tenant: string, keyHash: string): string {
  return `${prefix}:idem:{${tenant}}:${keyHash}`;
}

/** Pub/sub channel on which cancel requests reach the workers. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}
