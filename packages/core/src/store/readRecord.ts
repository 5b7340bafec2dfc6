import { jobKeys } from './keys';
import { RECORD_FIELDS, toRecord, zipFields, type JobRecord } from './records';
import type { StoreContext } from './status';

/** The whole record of a job (with its request and the worker's notes), for the run that owns it. */
export async function readRecord(ctx: StoreContext, jobId: string): Promise<JobRecord | null> {
  const k = jobKeys(ctx.prefix, jobId);
  const results = await ctx.redis.multi().hmget(k.meta, ...RECORD_FIELDS).xlen(k.data).exec();
  if (results === null) throw new Error('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
  const [values, stored] = results.map(([, value]) => value) as [Array<string | null>, number];
  return toRecord(jobId, zipFields(RECORD_FIELDS, values), stored);
}
