import type { TerminalState } from '../model/job';

/**
 * Redis key layout (docs/redis.md explains it). Every key of one job carries
 * the hash tag {jobId}, so they live in one Redis Cluster slot and one Lua
 * script may touch them all; a tenant's keys share the tag {tenant}.
 */
export function jobKeys(prefix: string, jobId: string) {
  const base = `${prefix}:job:{${jobId}}`;
  return {
    /** Hash: tenant, request, target, terminal state, cancel flag, owner, usage and counts. */
    meta: `${base}:meta`,
    /** Stream: accepted inputs (`v`) with their provenance (`p`, JSON), entry ids 0-1, 0-2, ... (the id is the input's position). */
    data: `${base}:data`,
    /** Stream: progress messages, ids 0-1, 0-2, ... (trimmed at the start), then one `end` entry. */
    messages: `${base}:messages`,
    /** Stream: the candidates the job did not keep, ids 0-1, 0-2, ..., the newest MAX_REJECTED kept. */
    rejected: `${base}:rejected`,
  };
}

export type JobKeys = ReturnType<typeof jobKeys>;

/** The tenant's job indexes: sorted sets of job ids scored by creation time (ms). */
export function tenantKeys(prefix: string, tenant: string) {
  const base = `${prefix}:tenant:{${tenant}}`;
  return {
    /** Every job of the tenant. */
    all: `${base}:jobs`,
    /** Jobs that have not ended (queued or running). */
    open: `${base}:open`,
    /** Jobs that ended in `state`. */
    ended: (state: TerminalState) => `${base}:ended:${state}`,
    /** Hash: the inputs the tenant's unfinished jobs ask for (in all, and each one's), and its submit bucket. */
    quota: `${base}:quota`,
    /** The tenant's datasets, by name, scored by creation time. */
    datasets: `${base}:datasets`,
  };
}

export type TenantKeys = ReturnType<typeof tenantKeys>;

/** String: the job an Idempotency-Key of a tenant created (the key itself is stored hashed). */
export function idempotencyKey(prefix: string, tenant: string, keyHash: string): string {
  return `${prefix}:idem:{${tenant}}:${keyHash}`;
}

/** Pub/sub channel on which cancel requests reach the workers. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

/**
 * A dataset's keys (a tenant's named set of inputs, across its jobs): one
 * hash tag for the tenant and the name, so one script checks and writes them.
 */
export function datasetKeys(prefix: string, tenant: string, name: string) {
  const base = `${prefix}:dataset:{${tenant}/${name}}`;
  return {
    /** Stream: the dataset's inputs, ids 0-1, 0-2, ... (`v` the input, `j` the job that accepted it). */
    items: `${base}:items`,
    /** Hash: name, created_at, updated_at, count. */
    meta: `${base}:meta`,
    /** Hash: job id -> how many of the dataset's inputs that job wrote. */
    jobs: `${base}:jobs`,
    /** String: the token of the run whose batch is being accepted (one at a time for the dataset). */
    lock: `${base}:lock`,
    /** Set: the dataset's unfinished jobs (a delete waits for them). */
    open: `${base}:open`,
  };
}

export type DatasetKeys = ReturnType<typeof datasetKeys>;
