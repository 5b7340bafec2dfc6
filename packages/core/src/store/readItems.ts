import { jobKeys } from './keys';
import type { StoreContext } from './status';

/** Inputs read from a data stream per round trip. */
const PAGE = 5_000;

/**
 * Every stored input of a job, in order. Read in pages, so a job of 100,000
 * inputs does not hold Redis's whole reply (an array per entry) next to the strings.
 */
export async function readItems(ctx: StoreContext, jobId: string): Promise<string[]> {
  const key = jobKeys(ctx.prefix, jobId).data;
  const items: string[] = [];
  for (;;) {
    // Input n has the id 0-n: the next page starts after the inputs read so far.
    const entries = await ctx.redis.xrange(key, `(0-${items.length}`, '+', 'COUNT', PAGE);
    for (const [, fields] of entries) items.push(fields[1] ?? '');
    if (entries.length < PAGE) return items;
  }
}
