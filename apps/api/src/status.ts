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
  // Without the data (lists, checks before a stream or a cancel), only its length is read.
  const snapshot = await store.getSnapshot(jobId, withData ? 0 : null);
  if (snapshot === null || snapshot.record.tenant !== tenant) return null;
  const { record } = snapshot;
  const state = record.state ?? (await liveState(queue, record));
  return buildStatus(record, state, snapshot.messages, snapshot.data, withData, price, snapshot.dataLength);
}

/**
 * The JSON of one job's status with its data, as `JSON.stringify` of
 * readStatus's answer would be, without reading or encoding again the inputs
 * an earlier read of the job already had: stored inputs never change, so
 * `cache` keeps each job's data as encoded JSON, and a read fetches and
 * encodes only the inputs stored since. A status poll of a job holding
 * 10,000 inputs costs about what the new ones cost.
 */
export async function readStatusJson(
  store: JobStore,
  queue: Queue<GenerationJobData>,
  jobId: string,
  tenant: string,
  price: Price | null,
  cache: DataJsonCache,
): Promise<string | null> {
  const cached = cache.get(jobId);
  const snapshot = await store.getSnapshot(jobId, cached?.count ?? 0);
  if (snapshot === null || snapshot.record.tenant !== tenant) return null;
  let data: DataJson;
  if (cached !== undefined && snapshot.dataLength === cached.count + snapshot.data.length) {
    data = snapshot.data.length === 0 ? cached : appendJson(cached, snapshot.data);
  } else {
    // Nothing cached, or the stream is not what the cache says (it cannot change, but never trust a cache over Redis): read it all.
    const full = cached === undefined ? snapshot : await store.getSnapshot(jobId, 0);
    if (full === null || full.record.tenant !== tenant) return null;
    data = appendJson({ count: 0, json: '' }, full.data);
  }
  if (data !== cached) cache.set(jobId, data);
  const { record } = snapshot;
  const state = record.state ?? (await liveState(queue, record));
  return statusJson(buildStatus(record, state, snapshot.messages, [], false, price, data.count), data.json);
}

/** A job's first `count` inputs as the inside of a JSON array (`"a","b"`). */
export interface DataJson {
  count: number;
  json: string;
}

function appendJson(base: DataJson, inputs: string[]): DataJson {
  if (inputs.length === 0) return base;
  const more = JSON.stringify(inputs).slice(1, -1);
  return { count: base.count + inputs.length, json: base.count === 0 ? more : `${base.json},${more}` };
}

/** `JSON.stringify(status)` with `data` set to the array whose inside is `dataJson`, keys in the same order. */
export function statusJson(status: DataGenerationStatus, dataJson: string): string {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let seen = false;
  for (const [key, value] of Object.entries(status)) {
    if (key === 'data') seen = true;
    else (seen ? after : before)[key] = value;
  }
  const head = JSON.stringify(before).slice(1, -1);
  const tail = JSON.stringify(after).slice(1, -1);
  return `{${head}${head === '' ? '' : ','}"data":[${dataJson}]${tail === '' ? '' : ','}${tail}}`;
}

/**
 * Encoded data of recently read jobs, least recently used dropped first past
 * `maxChars` in all. Per API process; entries need no invalidation because a
 * job's stored inputs never change (its keys expire, and a read then finds no job).
 */
export class DataJsonCache {
  private readonly entries = new Map<string, DataJson>();
  private chars = 0;

  constructor(readonly maxChars = 32 * 1024 * 1024) {}

  get(jobId: string): DataJson | undefined {
    const entry = this.entries.get(jobId);
    if (entry !== undefined) {
      this.entries.delete(jobId); // most recently used last
      this.entries.set(jobId, entry);
    }
    return entry;
  }

  set(jobId: string, entry: DataJson): void {
    const current = this.entries.get(jobId);
    if (current !== undefined) {
      if (current.count >= entry.count) return; // a concurrent read got further
      this.chars -= current.json.length;
      this.entries.delete(jobId);
    }
    if (entry.json.length > this.maxChars) return;
    this.entries.set(jobId, entry);
    this.chars += entry.json.length;
    for (const [id, old] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(id);
      this.chars -= old.json.length;
    }
  }
}

export function buildStatus(
  record: JobRecord,
  state: JobState,
  messages: string[],
  data: string[],
  withData: boolean,
  price: Price | null,
  /** Inputs stored (when `data` does not hold them all). */
  dataLength = data.length,
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
    num_generated: dataLength,
    created_at: new Date(record.createdAt).toISOString(),
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, llm_calls: usage.calls },
    report: {
      generated: counts.candidates,
      accepted: dataLength,
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
