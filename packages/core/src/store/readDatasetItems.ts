import { datasetKeys } from './keys';
import type { StoreContext } from './status';

/** An input of a dataset: its position (0-based), and the job that accepted it. */
export interface DatasetItem {
  index: number;
  input: string;
  jobId: string;
}

/** Up to `count` of a dataset's inputs after the first `after`. */
export async function readDatasetItems(ctx: StoreContext, tenant: string, name: string, after: number, count: number): Promise<DatasetItem[]> {
  const entries = await ctx.redis.xrange(datasetKeys(ctx.prefix, tenant, name).items, `(0-${after}`, '+', 'COUNT', count);
  return entries.map(([id, fields]) => {
    const values: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
    return { index: Number(id.slice(id.indexOf('-') + 1)) - 1, input: values.v ?? '', jobId: values.j ?? '' };
  });
}
