import type { Redis } from 'ioredis';
import { isTerminal, type JobState, type TerminalState } from '../model/job';
import { scanKeys } from '../redis/scan';
import { jobKeys, tenantKeys } from './keys';
import type { StoreContext } from './status';

/** Set once every tenant's jobs are in the indexes lists filter by: the work is done once per Redis. */
const DONE_MARK = 'migrations:state-indexes';
/** Jobs read per round trip. */
const PAGE = 500;

/**
 * Puts the jobs an earlier version stored into the indexes of unfinished jobs
 * and of each final state, which lists filtered by state read (that version
 * kept only each tenant's index of all its jobs). Idempotent, and harmless to
 * run beside live traffic: `ZADD NX` never moves a job the current version
 * indexed, and a job that ends meanwhile is put right by the next list that
 * meets it in the open index. Answers how many jobs it indexed (null: done before).
 */
export async function indexEarlierJobs(ctx: StoreContext): Promise<number | null> {
  const mark = `${ctx.prefix}:${DONE_MARK}`;
  if ((await ctx.redis.get(mark)) !== null) return null;
  const pattern = `${ctx.prefix}:tenant:{*}:jobs`;
  let indexed = 0;
  for (const { key, node } of await scanKeys(ctx.redis, pattern)) {
    const tenant = key.slice(key.indexOf('{') + 1, key.lastIndexOf('}'));
    indexed += await indexTenant(ctx, node, key, tenant);
  }
  await ctx.redis.set(mark, String(Date.now()));
  return indexed;
}

async function indexTenant(ctx: StoreContext, node: Redis, allKey: string, tenant: string): Promise<number> {
  const t = tenantKeys(ctx.prefix, tenant);
  let indexed = 0;
  for (let start = 0; ; start += PAGE) {
    const page = await node.zrange(allKey, start, start + PAGE - 1, 'WITHSCORES');
    if (page.length === 0) return indexed;
    const jobs: Array<{ jobId: string; createdAt: string }> = [];
    for (let i = 0; i < page.length; i += 2) jobs.push({ jobId: page[i]!, createdAt: page[i + 1]! });
    // Each job's meta lives in its own slot: one read each, pipelined by the client.
    const states = await Promise.all(jobs.map(({ jobId }) => ctx.redis.hmget(jobKeys(ctx.prefix, jobId).meta, 'tenant', 'state')));
    const tx = ctx.redis.multi();
    let writes = 0;
    jobs.forEach(({ jobId, createdAt }, i) => {
      const [owner, state] = states[i]!;
      if (owner === null) return; // expired: nothing to list
      const index = state !== null && isTerminal(state as JobState) ? t.ended(state as TerminalState) : t.open;
      tx.zadd(index, 'NX', createdAt, jobId);
      tx.pexpire(index, ctx.retentionMs); // as the current version's writes of these indexes do
      writes++;
    });
    if (writes > 0) {
      const results = (await tx.exec()) ?? [];
      indexed += results.filter(([error, added], i) => i % 2 === 0 && error === null && added === 1).length;
    }
  }
}
