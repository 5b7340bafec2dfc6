import type { RejectedCandidate } from '../model/provenance';
import { jobKeys } from './keys';
import { entryNumber, fieldsOf } from './readItemPage';
import type { StoreContext } from './status';

/** A rejected candidate with its number among the job's rejections (0-based; the oldest are trimmed past MAX_REJECTED). */
export interface StoredRejection extends RejectedCandidate {
  index: number;
}

/** Up to `limit` of a job's rejected candidates from number `offset` on (the oldest kept first if it was trimmed); `total` kept. */
export async function readRejectedPage(
  ctx: StoreContext,
  jobId: string,
  offset: number,
  limit: number,
): Promise<{ rejected: StoredRejection[]; total: number }> {
  const key = jobKeys(ctx.prefix, jobId).rejected;
  const [[e1, entries], [e2, total]] = (await ctx.redis.multi().xrange(key, `(0-${offset}`, '+', 'COUNT', limit).xlen(key).exec()) as [
    [Error | null, Array<[string, string[]]>],
    [Error | null, number],
  ];
  if (e1 ?? e2) throw e1 ?? e2;
  const rejected = entries.map(([id, fields]): StoredRejection => ({ index: entryNumber(id) - 1, ...(JSON.parse(fieldsOf(fields).r ?? '{}') as RejectedCandidate) }));
  return { rejected, total };
}
