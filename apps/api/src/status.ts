import { createHash } from 'node:crypto';
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
  type MessageEntry,
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
 * One job's status with its data, as the bytes of `JSON.stringify` of
 * readStatus's answer, without reading or encoding again what an earlier
 * read of the job already had: stored inputs never change and the messages
 * stream is only appended to (and trimmed at its start), so `cache` keeps
 * each job's inputs and messages as encoded JSON, and a read fetches and
 * encodes only the new ones. With it, a weak ETag that costs nothing to
 * compute (a job's first `count` inputs are always the same bytes).
 */
export async function readStatusBody(
  store: JobStore,
  queue: Queue<GenerationJobData>,
  jobId: string,
  tenant: string,
  price: Price | null,
  cache: StatusCache,
): Promise<{ chunks: Buffer[]; length: number; etag: string } | null> {
  const cached = cache.get(jobId);
  const snapshot = await store.getSnapshot(jobId, cached?.data.count ?? 0, cached?.messages.lastId ?? null);
  if (snapshot === null || snapshot.record.tenant !== tenant) return null;
  let data: DataJson;
  if (cached !== undefined && snapshot.dataLength === cached.data.count + snapshot.data.length) {
    data = appendData(cached.data, snapshot.data);
  } else {
    // Nothing cached, or the stream is not what the cache says (it cannot change, but never trust a cache over Redis): read it all.
    const full = cached === undefined ? snapshot : await store.getSnapshot(jobId, 0);
    if (full === null || full.record.tenant !== tenant) return null;
    data = appendData(EMPTY_DATA, full.data);
  }
  const messages = appendMessages(cached?.messages ?? EMPTY_MESSAGES, snapshot.messageEntries, snapshot.firstMessageId);
  cache.set(jobId, { data, messages });
  const { record } = snapshot;
  const state = record.state ?? (await liveState(queue, record));
  const status = buildStatus(record, state, [], [], false, price, data.count);
  const messagesJson = messages.json.subarray(messages.offsets[messages.from]! + 1); // without the first entry's comma
  // In pieces, not one buffer: the cached megabytes are written as they are, never copied.
  const chunks = statusChunks(status, { detailed_status: messagesJson, data: data.json });
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  // The body is the status without its arrays, the messages from the first kept one to the last read, and the first `count` inputs.
  const hash = createHash('sha1')
    .update(JSON.stringify(status))
    .update(`|${messages.ids[messages.from] ?? ''}|${messages.lastId ?? ''}|${data.count}`)
    .digest('base64url')
    .slice(0, 27);
  return { chunks, length, etag: `W/"${length.toString(16)}-${hash}"` };
}

/** A job's first `count` inputs as the inside of a JSON array (`"a","b"`), UTF-8. */
export interface DataJson {
  count: number;
  json: Buffer;
}

/**
 * A job's messages read so far, as JSON: each entry `,"text"` back to back
 * in `json`, entry i starting at `offsets[i]`; those before `from` were
 * trimmed from the stream since. `lastId`: the last entry read (any kind).
 */
export interface MessagesJson {
  ids: string[];
  offsets: number[];
  json: Buffer;
  from: number;
  lastId: string | null;
}

export interface CachedStatus {
  data: DataJson;
  messages: MessagesJson;
}

const EMPTY_DATA: DataJson = { count: 0, json: Buffer.alloc(0) };
const EMPTY_MESSAGES: MessagesJson = { ids: [], offsets: [0], json: Buffer.alloc(0), from: 0, lastId: null };

function appendData(base: DataJson, inputs: string[]): DataJson {
  if (inputs.length === 0) return base;
  const more = Buffer.from(`${base.count === 0 ? '' : ','}${JSON.stringify(inputs).slice(1, -1)}`);
  return { count: base.count + inputs.length, json: base.count === 0 ? more : Buffer.concat([base.json, more]) };
}

function appendMessages(base: MessagesJson, entries: MessageEntry[], firstId: string | null): MessagesJson {
  let { ids, offsets, json, from } = base;
  const texts = entries.filter(([, text]) => text !== null);
  if (texts.length > 0) {
    ids = [...ids.slice(from), ...texts.map(([id]) => id)];
    const parts = texts.map(([, text]) => Buffer.from(`,${JSON.stringify(text)}`));
    const start = offsets[from]!;
    const kept = json.subarray(start);
    offsets = offsets.slice(from).map((o) => o - start);
    for (const part of parts) offsets.push(offsets[offsets.length - 1]! + part.length);
    json = Buffer.concat([kept, ...parts]);
    from = 0;
  }
  // Entries trimmed from the stream's start since they were read are dropped too.
  if (firstId === null) from = ids.length;
  else while (from < ids.length && compareIds(ids[from]!, firstId) < 0) from++;
  const lastId = entries.length > 0 ? entries[entries.length - 1]![0] : base.lastId;
  if (texts.length === 0 && from === base.from && lastId === base.lastId) return base;
  return { ids, offsets, json, from, lastId };
}

/** Order of two stream ids (`ms-seq`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

/**
 * `JSON.stringify(status)` as bytes, with the arrays named in `arrays` taken
 * from the given JSON (the inside of each array); keys in the same order.
 */
export function statusBytes(status: DataGenerationStatus, arrays: Record<string, Buffer>): Buffer {
  return Buffer.concat(statusChunks(status, arrays));
}

/** statusBytes in the pieces it is made of (the given arrays among them, uncopied). */
export function statusChunks(status: DataGenerationStatus, arrays: Record<string, Buffer>): Buffer[] {
  const parts: Buffer[] = [];
  let plain: Record<string, unknown> = {};
  let first = true;
  const flush = () => {
    const text = JSON.stringify(plain).slice(1, -1);
    if (text !== '') {
      parts.push(Buffer.from(`${first ? '' : ','}${text}`));
      first = false;
    }
    plain = {};
  };
  for (const [key, value] of Object.entries(status)) {
    const inside = arrays[key];
    if (inside === undefined) {
      plain[key] = value;
      continue;
    }
    flush();
    parts.push(Buffer.from(`${first ? '' : ','}${JSON.stringify(key)}:[`), inside, CLOSE_ARRAY);
    first = false;
  }
  flush();
  return [OPEN_OBJECT, ...parts, CLOSE_OBJECT];
}

const OPEN_OBJECT = Buffer.from('{');
const CLOSE_OBJECT = Buffer.from('}');
const CLOSE_ARRAY = Buffer.from(']');

/**
 * Encoded inputs and messages of recently read jobs, least recently used
 * dropped first past `maxBytes` in all. Per API process; entries need no
 * invalidation because what they hold never changes (a job's keys expire,
 * and a read then finds no job).
 */
export class StatusCache {
  private readonly entries = new Map<string, CachedStatus>();
  private bytes = 0;

  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  get(jobId: string): CachedStatus | undefined {
    const entry = this.entries.get(jobId);
    if (entry !== undefined) {
      this.entries.delete(jobId); // most recently used last
      this.entries.set(jobId, entry);
    }
    return entry;
  }

  set(jobId: string, entry: CachedStatus): void {
    const current = this.entries.get(jobId);
    if (current !== undefined) {
      if (current.data.count > entry.data.count) return; // a concurrent read got further
      this.bytes -= size(current);
      this.entries.delete(jobId);
    }
    if (size(entry) > this.maxBytes) return;
    this.entries.set(jobId, entry);
    this.bytes += size(entry);
    for (const [id, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= size(old);
    }
  }
}

const size = (entry: CachedStatus) => entry.data.json.length + entry.messages.json.length;

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
