import type { Config } from '../config';
import type { DataGenerationStatus } from '../contract';
import type { JobState } from '../model/job';
import { estimateCostUsd, priceOf, type Price } from '../model/pricing';
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
): DataGenerationStatus {
  const { usage, counts } = job;
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
      accepted: job.itemCount,
      rejected: { exact_duplicate: counts.exactDuplicates, near_duplicate: counts.nearDuplicates, filtered: counts.filtered, bad: counts.bad },
      unusable_answers: counts.unusableAnswers,
      estimated_cost_usd: estimateCostUsd(usage, price),
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
export function configuredPrice(config: Pick<Config, 'llm' | 'llmPrice'>): Price | null {
  const model = config.llm.provider === 'offline' ? null : config.llm.model;
  return priceOf(model, config.llmPrice);
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
