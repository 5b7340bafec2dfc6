import type { JobRequest } from '../contract';
import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { oneLine } from './records';
import { storeScript, type StoreContext } from './status';

const script = storeScript('createJob');

/** Records a new job (its meta hash and first message); not yet in its tenant's indexes (indexJob). */
export async function createJob(
  ctx: StoreContext,
  job: { jobId: string; tenant: string; request: JobRequest; createdAt: number; message: string },
): Promise<void> {
  const k = jobKeys(ctx.prefix, job.jobId);
  const fields = {
    tenant: job.tenant,
    request: JSON.stringify(job.request),
    n: String(job.request.num_inputs_to_generate),
    created_at: String(job.createdAt),
    ...(job.request.dataset !== undefined && { dataset: job.request.dataset }),
  };
  await runScript(ctx.redis, script, [k.meta, k.messages], [JSON.stringify({ fields, message: oneLine(job.message), ttl: ctx.retentionMs })]);
}
