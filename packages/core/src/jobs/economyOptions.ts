import type { Config } from '../config';
import type { LlmProvider } from '../llm/provider';
import type { JobServiceOptions } from './jobService';

/**
 * The job service's economy settings for a process: whether the provider
 * has a batch API (else an economy job is refused, 422), the server's
 * default (ECONOMY_DEFAULT), and how a cancelled job's provider batch is
 * cancelled. The API and the workers build it the same way.
 */
export function economyOptions(config: Pick<Config, 'economy'>, provider: LlmProvider): NonNullable<JobServiceOptions['economy']> {
  const batches = provider.batches;
  return {
    available: batches !== undefined,
    provider: provider.name,
    byDefault: config.economy.byDefault,
    ...(batches !== undefined && { cancelBatch: (batchId: string) => batches.cancel(batchId) }),
  };
}
