import type { TerminalState } from '../model/job';
import { tenantKeys } from './keys';
import type { StoreContext } from './status';

/** Which of a tenant's indexes: every job, the open ones, or those that ended in a state. */
export type TenantIndex = 'all' | 'open' | TerminalState;

/** A place in an index: a job and its creation time (the score). */
export interface IndexEntry {
  jobId: string;
  createdAt: number;
}

/**
 * Up to `limit` of a tenant's jobs, newest first, starting after `after`
 * (an entry of an earlier page) or from the newest; `more` says whether
 * older ones follow. Reads only the page asked for (ZRANGE BYSCORE REV
 * LIMIT), whatever the index holds; entries past the retention are left out.
 */
export async function pageTenantJobs(
  ctx: StoreContext,
  tenant: string,
  index: TenantIndex,
  limit: number,
  after: IndexEntry | null,
): Promise<{ entries: IndexEntry[]; more: boolean }> {
  const t = tenantKeys(ctx.prefix, tenant);
  const key = index === 'all' ? t.all : index === 'open' ? t.open : t.ended(index);
  const oldest = Date.now() - ctx.retentionMs;
  // Jobs created in the same millisecond share a score; within it the set orders them by id,
  // so the page after `after` starts at its score and skips the ids up to it.
  const max = after === null ? '+inf' : String(after.createdAt);
  const sameScore = after === null ? 0 : await ctx.redis.zcount(key, after.createdAt, after.createdAt);
  const raw = await ctx.redis.zrange(key, max, oldest, 'BYSCORE', 'REV', 'LIMIT', 0, limit + 1 + sameScore, 'WITHSCORES');
  const entries: IndexEntry[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const entry = { jobId: raw[i]!, createdAt: Number(raw[i + 1]) };
    // In REV order, same-score members come by id descending: skip `after` and those before it.
    if (after !== null && entry.createdAt === after.createdAt && entry.jobId >= after.jobId) continue;
    entries.push(entry);
  }
  return { entries: entries.slice(0, limit), more: entries.length > limit };
}
