import type { ItemProvenance } from '../model/provenance';
import { jobKeys } from './keys';
import type { StoreContext } from './status';

/** An accepted input with its position (0-based) and its provenance (null: none was recorded). */
export interface StoredItem {
  index: number;
  input: string;
  provenance: ItemProvenance | null;
}

/** Up to `limit` of a job's inputs from position `offset`, with their provenance; `total`: how many are stored. */
export async function readItemPage(ctx: StoreContext, jobId: string, offset: number, limit: number): Promise<{ items: StoredItem[]; total: number }> {
  const key = jobKeys(ctx.prefix, jobId).data;
  // Input n has the id 0-n: those from `offset` on start past 0-offset.
  const [[e1, entries], [e2, total]] = (await ctx.redis.multi().xrange(key, `(0-${offset}`, '+', 'COUNT', limit).xlen(key).exec()) as [
    [Error | null, Array<[string, string[]]>],
    [Error | null, number],
  ];
  if (e1 ?? e2) throw e1 ?? e2;
  const items = entries.map(([id, fields]): StoredItem => {
    const values = fieldsOf(fields);
    return { index: entryNumber(id) - 1, input: values.v ?? '', provenance: values.p === undefined ? null : (JSON.parse(values.p) as ItemProvenance) };
  });
  return { items, total };
}

export function entryNumber(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}

export function fieldsOf(fields: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]!] = fields[i + 1]!;
  return values;
}
