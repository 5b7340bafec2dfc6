import type { Queue } from 'bullmq';
import {
  stateFromQueue,
  type DataGenerationStatus,
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
): Promise<DataGenerationStatus | null> {
  const snapshot = await store.getSnapshot(jobId);
  if (snapshot === null || snapshot.record.tenant !== tenant) return null;
  const { record } = snapshot;
  const state = record.state ?? (await liveState(queue, record));
  return {
    job_id: jobId,
    state,
    detailed_status: snapshot.messages,
    data: withData ? snapshot.data : null,
    // extra fields (allowed by the contract): what was asked, and what it cost
    num_inputs_to_generate: record.request.num_inputs_to_generate,
    num_generated: snapshot.data.length,
    created_at: new Date(record.createdAt).toISOString(),
    usage: { input_tokens: record.usage.inputTokens, output_tokens: record.usage.outputTokens, llm_calls: record.usage.calls },
  };
}

/** The state of a job that has not recorded an end, from BullMQ. */
export async function liveState(queue: Queue<GenerationJobData>, record: JobRecord): Promise<JobState> {
  const state = stateFromQueue(await queue.getJobState(record.jobId));
  // BullMQ forgot the job (removed while cancelling, or its record expired first).
  if (state === 'UNKNOWN') return record.cancelRequested ? 'CANCELLED' : 'ERROR';
  return state;
}
