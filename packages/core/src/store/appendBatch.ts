import type { EconomyState } from '../model/economy';
import type { BatchCounts, JobUsage } from '../model/job';
import type { ItemProvenance, RejectedCandidate } from '../model/provenance';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { countsAsFields, oneLine, usageAsFields } from './records';
import { MAX_MESSAGES, MAX_REJECTED, ownershipError, ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('appendBatch');

export interface BatchWrite {
  accepted: string[];
  usage: JobUsage;
  counts?: BatchCounts;
  message: string;
  /** Each accepted input's provenance, in the same order (absent: none recorded). */
  provenance?: ItemProvenance[];
  rejected?: RejectedCandidate[];
  /** An economy job's round state after this batch, written with it. */
  economy?: EconomyState;
}

/**
 * Appends one batch of a run after the `at` inputs the run knows are stored,
 * with its usage, counts and message, and answers the number stored and the
 * cancel flag. Throws JobOwnershipLostError when the job has ended, another
 * run owns it, or the stream is not where this run left it.
 */
export async function appendBatch(
  ctx: StoreContext,
  jobId: string,
  owner: string,
  at: number,
  batch: BatchWrite,
): Promise<{ length: number; cancelRequested: boolean }> {
  const k = jobKeys(ctx.prefix, jobId);
  const args = {
    owner,
    at,
    incr: { ...usageAsFields(batch.usage), ...countsAsFields(batch.counts) },
    set: batch.economy === undefined ? {} : { economy: JSON.stringify(batch.economy) },
    message: oneLine(batch.message),
    rejected: (batch.rejected ?? []).map((r) => JSON.stringify(r)),
    max_messages: MAX_MESSAGES,
    max_rejected: MAX_REJECTED,
    ttl: ctx.retentionMs,
  };
  const items = batch.accepted.flatMap((input, i) => {
    const provenance = batch.provenance?.[i];
    return [input, provenance === undefined ? '' : JSON.stringify(provenance)];
  });
  const [status, length, cancel] = (await runScript(ctx.redis, script, [k.meta, k.data, k.messages, k.rejected], [JSON.stringify(args), ...items])) as [
    number,
    number,
    number,
  ];
  if (status !== ScriptStatus.OK) throw ownershipError(jobId, status);
  return { length, cancelRequested: cancel === 1 };
}
