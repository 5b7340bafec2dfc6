import { runScript } from '../redis/scripts';
import { jobKeys } from './keys';
import { ownershipError, ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('saveNotes');

/** What a run keeps for a resumed run to reuse. */
export interface RunNotes {
  themes?: string[];
  generatedSeeds?: string[];
}

/** Stores a run's notes; throws JobOwnershipLostError when the job has ended or another run owns it. */
export async function saveNotes(ctx: StoreContext, jobId: string, owner: string, notes: RunNotes): Promise<void> {
  const fields: Record<string, string> = {};
  if (notes.themes !== undefined) fields.themes = JSON.stringify(notes.themes);
  if (notes.generatedSeeds !== undefined) fields.generated_seeds = JSON.stringify(notes.generatedSeeds);
  const args = { owner, fields, ttl: ctx.retentionMs };
  const status = (await runScript(ctx.redis, script, [jobKeys(ctx.prefix, jobId).meta], [JSON.stringify(args)])) as number;
  if (status !== ScriptStatus.OK) throw ownershipError(jobId, status);
}
