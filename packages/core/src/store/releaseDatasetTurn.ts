import { runScript } from '../redis/scripts';
import { datasetKeys } from './keys';
import { storeScript, type StoreContext } from './status';

const script = storeScript('releaseDatasetTurn');

/** Ends a run's turn on its dataset (if it still holds it). */
export async function releaseDatasetTurn(ctx: StoreContext, tenant: string, name: string, token: string): Promise<void> {
  await runScript(ctx.redis, script, [datasetKeys(ctx.prefix, tenant, name).lock], [token]);
}
