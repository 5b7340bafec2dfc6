import type { Queue } from 'bullmq';
import {
  estimateCostUsd,
  priceOf,
  stateFromQueue,
  type Config,
  type DataGenerationStatus,
  type Price,
  type GenerationJobData,
  type JobRecord,
  type JobState,
  type JobStore,
} from '@datagen/core';

/**
 * A job's status: the job store's record (terminal state, messages, data,
 * cancel flag) merged with BullMQ's view of the job (queued or running).
 */
export async function readStatus(
  store: JobStore,
  queue: Queue<GenerationJobData>,
  jobId: string,
  tenant: string,
  withData: boolean,
  price: Price | null,
): Promise<DataGenerationStatus | null> {
  const snapshot = await store.getSnapshot(jobId);
  if (snapshot === null || snapshot.record.tenant !== tenant) return null;
  const { record } = snapshot;
  const state = record.state ?? (await liveState(queue, record));
  return buildStatus(record, state, snapshot.messages, snapshot.data, withData, price);
}

export function buildStatus(
  record: JobRecord,
  state: JobState,
  messages: string[],
  data: string[],
  withData: boolean,
  price: Price | null,
): DataGenerationStatus {
  const { usage, counts } = record;
  const diversity = record.report?.diversity ?? null;
  return {
    job_id: record.jobId,
    state,
    detailed_status: messages,
    data: withData ? data : null,
    // extra fields (allowed by the contract): what was asked, what it cost, how good it is
    num_inputs_to_generate: record.request.num_inputs_to_generate,
    num_generated: data.length,
    created_at: new Date(record.createdAt).toISOString(),
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, llm_calls: usage.calls },
    report: {
      generated: counts.candidates,
      accepted: data.length,
      rejected: { exact_duplicate: counts.exactDuplicates, near_duplicate: counts.nearDuplicates, filtered: counts.filtered },
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
export function configuredPrice(config: Config): Price | null {
  const model = config.llm.provider === 'offline' ? null : config.llm.model;
  return priceOf(model, config.llmPrice);
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The state of a job that has not recorded an end, from BullMQ. */
export async function liveState(queue: Queue<GenerationJobData>, record: JobRecord): Promise<JobState> {
  const state = stateFromQueue(await queue.getJobState(record.jobId));
  // BullMQ forgot the job (removed while cancelling, or its record expired first).
  if (state === 'UNKNOWN') return record.cancelRequested ? 'CANCELLED' : 'ERROR';
  return state;
}
