import { createHash } from 'node:crypto';
import type { DataGenerationStatus, JobMessage, JobService } from '@datagen/core';

/**
 * One job's status as the bytes of `JSON.stringify` of the job service's
 * status, without reading or encoding again what an earlier read of the job
 * already had: stored inputs never change and the messages are only appended
 * to (and trimmed at their start), so `cache` keeps each job's inputs and
 * messages as encoded JSON, and a read asks the service for the new ones
 * only. With it, a weak ETag that costs nothing to compute (a job's first
 * `count` inputs are always the same bytes).
 */
export async function readStatusBody(
  jobs: JobService,
  tenant: string,
  jobId: string,
  cache: StatusCache,
): Promise<{ chunks: Buffer[]; length: number; etag: string }> {
  const cached = cache.get(jobId);
  let { status, read } = await jobs.read(tenant, jobId, {
    items: { from: cached?.data.count ?? 0 },
    messages: { after: cached?.messages.upTo ?? 0 },
  });
  let base: CachedStatus = cached ?? { data: EMPTY_DATA, messages: EMPTY_MESSAGES };
  // Messages that are not newer than the cache's (a job stored before messages were numbered: its
  // entries all read as number 0), or a stream that is not what the cache says: read it all.
  const renumbered = cached !== undefined && read.messages.some((m) => m.number <= cached.messages.upTo);
  if (cached !== undefined && (renumbered || read.job.itemCount !== cached.data.count + read.items.length)) {
    // The stream is not what the cache says (it cannot change, but never trust a cache over Redis): read it all.
    ({ status, read } = await jobs.read(tenant, jobId, { items: { from: 0 }, messages: { after: 0 } }));
    base = { data: EMPTY_DATA, messages: EMPTY_MESSAGES };
  }
  const data = appendData(base.data, read.items);
  const messages = appendMessages(base.messages, read.messages, read.firstMessage, read.messagesUpTo);
  cache.set(jobId, { data, messages });
  const messagesJson = messages.json.subarray(messages.offsets[messages.from]! + 1); // without the first entry's comma
  // In pieces, not one buffer: the cached megabytes are written as they are, never copied.
  const chunks = statusChunks(status, { detailed_status: messagesJson, data: data.json });
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  // The body is the status without its arrays, the messages from the first kept one to the last read, and the first `count` inputs.
  const hash = createHash('sha1')
    .update(JSON.stringify(status))
    .update(`|${messages.numbers[messages.from] ?? ''}|${messages.upTo}|${data.count}`)
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
 * in `json`, entry i (message number `numbers[i]`) starting at `offsets[i]`;
 * those before `from` were trimmed since. `upTo`: the number of the last
 * entry read (of any kind: the end marker too).
 */
export interface MessagesJson {
  numbers: number[];
  offsets: number[];
  json: Buffer;
  from: number;
  upTo: number;
}

export interface CachedStatus {
  data: DataJson;
  messages: MessagesJson;
}

const EMPTY_DATA: DataJson = { count: 0, json: Buffer.alloc(0) };
const EMPTY_MESSAGES: MessagesJson = { numbers: [], offsets: [0], json: Buffer.alloc(0), from: 0, upTo: 0 };

function appendData(base: DataJson, inputs: string[]): DataJson {
  if (inputs.length === 0) return base;
  const more = Buffer.from(`${base.count === 0 ? '' : ','}${JSON.stringify(inputs).slice(1, -1)}`);
  return { count: base.count + inputs.length, json: base.count === 0 ? more : Buffer.concat([base.json, more]) };
}

function appendMessages(base: MessagesJson, read: JobMessage[], firstNumber: number, upTo: number): MessagesJson {
  let { numbers, offsets, json, from } = base;
  if (read.length > 0) {
    numbers = [...numbers.slice(from), ...read.map((m) => m.number)];
    const parts = read.map((m) => Buffer.from(`,${JSON.stringify(m.text)}`));
    const start = offsets[from]!;
    const kept = json.subarray(start);
    offsets = offsets.slice(from).map((o) => o - start);
    for (const part of parts) offsets.push(offsets[offsets.length - 1]! + part.length);
    json = Buffer.concat([kept, ...parts]);
    from = 0;
  }
  // Messages trimmed from the stream's start since they were read are dropped too.
  if (firstNumber === 0) from = numbers.length;
  else while (from < numbers.length && numbers[from]! < firstNumber) from++;
  if (read.length === 0 && from === base.from && upTo === base.upTo) return base;
  return { numbers, offsets, json, from, upTo };
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
