import { runScript } from '../redis/scripts';
import { datasetKeys } from './keys';
import { ScriptStatus, storeScript, type StoreContext } from './status';

const script = storeScript('appendDataset');

export type DatasetAppendOutcome = { kind: 'added'; count: number } | { kind: 'turn_lost' } | { kind: 'out_of_place'; mine: number } | { kind: 'full'; count: number };

/** Adds a job's accepted inputs to its dataset, for the run holding the dataset's turn (appendDataset.lua). */
export async function appendDataset(
  ctx: StoreContext,
  tenant: string,
  name: string,
  write: { token: string; jobId: string; at: number; max: number; inputs: string[] },
): Promise<DatasetAppendOutcome> {
  const k = datasetKeys(ctx.prefix, tenant, name);
  const args = { token: write.token, job: write.jobId, at: write.at, max: write.max, now: Date.now() };
  const [status, detail] = (await runScript(ctx.redis, script, [k.items, k.meta, k.jobs, k.lock], [JSON.stringify(args), ...write.inputs])) as [number, number | string];
  switch (status) {
    case ScriptStatus.OK:
      return { kind: 'added', count: Number(detail) };
    case ScriptStatus.NOT_OWNER:
      return { kind: 'turn_lost' };
    case ScriptStatus.OUT_OF_PLACE:
      return { kind: 'out_of_place', mine: Number(detail) };
    default:
      return { kind: 'full', count: Number(detail) };
  }
}
