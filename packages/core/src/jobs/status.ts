import type { Config } from '../config';
import type { DataGenerationStatus } from '../contract';
import type { JobState } from '../model/job';
import { estimateCost, priceOf, type Price } from '../model/pricing';
import type { JobSummary } from '../store/records';

/**
 * A job as the contract shows it (DataGenerationStatus): its summary, the
 * state the service resolved, and the messages and data the caller read.
 */
export function buildStatus(
  job: JobSummary,
  state: JobState,
  parts: { messages: string[]; data: string[] | null },
  price: Price | null,
  /** The configured model, named when its price is unknown. */
  model: string | null = null,
): DataGenerationStatus {
  const { usage, counts } = job;
  const cost = estimateCost(usage, price);
  const accepted = job.itemCount;
  const billed = usage.inputTokens + usage.outputTokens;
  const diversity = job.report?.diversity ?? null;
  return {
    job_id: job.jobId,
    state,
    detailed_status: parts.messages,
    data: parts.data,
    // extra fields (allowed by the contract): what was asked, what it cost, how good it is
    num_inputs_to_generate: job.target,
    num_generated: job.itemCount,
    created_at: new Date(job.createdAt).toISOString(),
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, llm_calls: usage.calls },
    report: {
      generated: counts.candidates,
      accepted,
      rejected: { exact_duplicate: counts.exactDuplicates, near_duplicate: counts.nearDuplicates, filtered: counts.filtered, bad: counts.bad },
      unusable_answers: counts.unusableAnswers,
      estimated_cost_usd: cost?.costUsd ?? null,
      cost: {
        estimated_usd: cost?.costUsd ?? null,
        per_1000_accepted_usd: cost === null || accepted === 0 ? null : round6((cost.costUsd * 1000) / accepted),
        billed_tokens_per_accepted: accepted === 0 ? null : Math.round(billed / accepted),
        cache_read_tokens: usage.cacheReadTokens ?? 0,
        cache_write_tokens: usage.cacheWriteTokens ?? 0,
        cache_savings_usd: cost?.cacheSavingsUsd ?? null,
        discount_usd: cost?.discountUsd ?? null,
        batch_requests: usage.batchRequests ?? 0,
        note: cost === null ? `unknown price for model ${model ?? '(the configured model)'}: set LLM_PRICES, or LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK` : null,
      },
      diversity:
        diversity === null
          ? null
          : {
              distinct_1: round(diversity.distinct1),
              distinct_2: round(diversity.distinct2),
              mean_pairwise_similarity: round(diversity.meanPairwiseSimilarity),
              compression_ratio: round(diversity.compressionRatio),
            },
    },
  };
}

/** The price the configured model's tokens cost, for estimates (null: unknown). */
export function configuredPrice(config: Pick<Config, 'llm' | 'llmPrice' | 'llmPrices'>): Price | null {
  return priceOf(configuredModel(config), config.llmPrice, config.llmPrices);
}

/** The configured model's name (null: the offline generator). */
export function configuredModel(config: Pick<Config, 'llm'>): string | null {
  return config.llm.provider === 'offline' ? null : config.llm.model;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
