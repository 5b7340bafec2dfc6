import { runScript } from '../redis/scripts';
import { tenantKeys } from './keys';
import { ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('admitJob');

/** A tenant's quotas; 0 is no limit. */
export interface Quota {
  /** Unfinished (queued or running) jobs at once. */
  maxOpenJobs: number;
  /** Inputs its unfinished jobs may ask for in all. */
  maxOpenInputs: number;
  /** Submits a minute (a burst of ten seconds' worth). */
  submitsPerMinute: number;
}

export type AdmitOutcome =
  | { kind: 'admitted'; rank: number }
  | { kind: 'over_open'; open: number }
  | { kind: 'over_inputs'; inputs: number }
  | { kind: 'over_rate'; waitMs: number };

/**
 * Admits a job of `tenant` asking for `n` inputs, within its quota, into
 * its indexes (admitJob.lua). Answers its rank among the tenant's
 * unfinished jobs, or which quota it would break.
 */
export async function admitJob(ctx: StoreContext, tenant: string, job: { jobId: string; createdAt: number; n: number }, quota: Quota): Promise<AdmitOutcome> {
  const t = tenantKeys(ctx.prefix, tenant);
  const args = {
    job: job.jobId,
    created_at: job.createdAt,
    n: job.n,
    oldest: Date.now() - ctx.retentionMs,
    ttl: ctx.retentionMs,
    max_open: quota.maxOpenJobs,
    max_inputs: quota.maxOpenInputs,
    per_minute: quota.submitsPerMinute,
  };
  const [status, detail] = (await runScript(ctx.redis, script, [t.all, t.open, t.quota], [JSON.stringify(args)])) as [number, number];
  switch (status) {
    case ScriptStatus.OK:
      return { kind: 'admitted', rank: detail };
    case ScriptStatus.OVER_OPEN:
      return { kind: 'over_open', open: detail };
    case ScriptStatus.OVER_INPUTS:
      return { kind: 'over_inputs', inputs: detail };
    default:
      return { kind: 'over_rate', waitMs: detail };
  }
}
