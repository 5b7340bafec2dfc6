import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { SUMMARY_FIELDS, toSummary, zipFields, type JobSummary } from './records';
import { storeScript, type StoreContext } from './status';

const script = storeScript('readJob');

/** A progress message and its number (1, 2, ...; the oldest are trimmed past MAX_MESSAGES). */
export interface JobMessage {
  number: number;
  text: string;
}

export interface JobRead {
  job: JobSummary;
  /** The inputs read: those after the first `items.from`. */
  items: string[];
  /** The messages read (the end marker is not a message: the state is in `job`). */
  messages: JobMessage[];
  /** The number of the last entry read (the end marker included), or where the read started. */
  messagesUpTo: number;
  /** The number of the oldest message still kept (0: none). */
  firstMessage: number;
}

export interface ReadSelection {
  /** Read the inputs after the first `from` (the reader has those: stored inputs never change). */
  items?: { from: number };
  /** Read the messages after number `after` (0: all), or only the `last` few. */
  messages?: { after: number } | { last: number };
}

/**
 * Reads a job in one step (readJob.lua), so its state, counts and data
 * agree: DONE comes with all the job's inputs. Null when the job does not exist.
 */
export async function readJob(ctx: StoreContext, jobId: string, select: ReadSelection = {}): Promise<JobRead | null> {
  const k = jobKeys(ctx.prefix, jobId);
  const m = select.messages;
  const args = {
    fields: SUMMARY_FIELDS,
    items_from: select.items?.from ?? -1,
    messages_after: m === undefined ? -1 : 'after' in m ? m.after : -2,
    last_messages: m !== undefined && 'last' in m ? m.last : 0,
  };
  const reply = (await runScript(ctx.redis, script, [k.meta, k.data, k.messages], [JSON.stringify(args)])) as
    | []
    | [Array<string | null>, number, string[], Array<[number, string, string]>, number];
  if (reply.length === 0) return null;
  const [values, stored, items, entries, firstMessage] = reply;
  const job = toSummary(jobId, zipFields(SUMMARY_FIELDS, values), stored);
  if (job === null) return null;
  const messages: JobMessage[] = [];
  for (const [number, kind, text] of entries) if (kind === 'm') messages.push({ number, text });
  const last = entries[entries.length - 1];
  const messagesUpTo = last !== undefined ? last[0] : m !== undefined && 'after' in m ? m.after : 0;
  return { job, items, messages, messagesUpTo, firstMessage };
}
