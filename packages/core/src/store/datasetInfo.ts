import { datasetKeys } from './keys';
import type { StoreContext } from './status';

/** What a dataset holds: its inputs, the jobs that wrote them, and its unfinished jobs. */
export interface DatasetInfo {
  name: string;
  count: number;
  jobs: number;
  openJobs: string[];
  createdAt: number | null;
  updatedAt: number | null;
}

/** A dataset's figures; null when it does not exist (never written, or deleted). */
export async function datasetInfo(ctx: StoreContext, tenant: string, name: string): Promise<DatasetInfo | null> {
  const k = datasetKeys(ctx.prefix, tenant, name);
  const results = await ctx.redis.multi().hgetall(k.meta).hlen(k.jobs).smembers(k.open).exec();
  if (results === null) throw new Error('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
  const [meta, jobs, open] = results.map(([, value]) => value) as [Record<string, string>, number, string[]];
  if (meta.created_at === undefined && open.length === 0) return null;
  return {
    name,
    count: Number(meta.count ?? 0),
    jobs,
    openJobs: open,
    createdAt: meta.created_at === undefined ? null : Number(meta.created_at),
    updatedAt: meta.updated_at === undefined ? null : Number(meta.updated_at),
  };
}
