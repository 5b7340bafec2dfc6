import type { JobRequest, JobState } from '../api';
import type { RedisClient } from '../queue';
import type { TokenUsage } from '../llm/provider';
import type { Diversity } from '../engine/diversity';
import { NO_COUNTS, type BatchCounts } from '../engine/engine';
import { createHash } from 'node:crypto';
import { cancelChannel, idempotencyKey, jobKeys, tenantJobsKey, type JobKeys } from './keys';

/**
 * The Redis job store: everything about a job that is ours rather than
 * BullMQ's. Writes that must happen together are Lua scripts over one job's
 * keys (one hash tag, so they run on a Redis Cluster too).
 */

/** Inputs read from a data stream per round trip (readData). */
const READ_PAGE = 5_000;

/** Progress messages kept per job; older ones are trimmed. */
export const MAX_MESSAGES = 1000;

export type TerminalState = Extract<JobState, 'DONE' | 'ERROR' | 'CANCELLED'>;

export interface JobRecord {
  jobId: string;
  tenant: string;
  request: JobRequest;
  createdAt: number;
  /** Set once the job has ended: by the worker, or by a cancel before it started. */
  state: TerminalState | null;
  cancelRequested: boolean;
  generatedSeeds: string[] | null;
  /** The themes the job derived, once it has. */
  themes: string[] | null;
  usage: TokenUsage & { calls: number };
  /** What became of the candidates so far. */
  counts: BatchCounts;
  /** The quality report written when the job ended, if it has. */
  report: JobReport | null;
}

/** Written once, when a job ends: the diversity of what it accepted. */
export interface JobReport {
  diversity: Diversity;
}

export interface JobSnapshot {
  record: JobRecord;
  data: string[];
  messages: string[];
}

/** An entry of a job's messages stream: its id, and its text (null for the end marker). */
export type MessageEntry = [id: string, text: string | null];

export interface IdempotencyClaim {
  jobId: string;
  requestHash: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Another writer got to this job first (a second worker after a stall, or the job already ended). */
export class JobOwnershipLostError extends Error {
  override readonly name = 'JobOwnershipLostError';
  constructor(
    message: string,
    /** `ended`: the job is over, stop quietly. `conflict`: retry later, from what is stored. */
    readonly reason: 'ended' | 'conflict',
  ) {
    super(message);
  }
}

const APPEND_BATCH = `
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return {-2, 0} end
local len = redis.call('XLEN', KEYS[2])
if len ~= tonumber(ARGV[1]) then return {-1, 0} end
for i = 14, #ARGV do
  len = len + 1
  redis.call('XADD', KEYS[2], '0-' .. len, 'v', ARGV[i])
end
if ARGV[5] ~= '0' then
  redis.call('HINCRBY', KEYS[1], 'tokens_in', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'tokens_out', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'llm_calls', ARGV[5])
end
local countFields = {'candidates', 'rejected_exact', 'rejected_near', 'rejected_filtered', 'unusable_answers', 'rejected_bad'}
for i = 1, 6 do
  if ARGV[7 + i] ~= '0' then redis.call('HINCRBY', KEYS[1], countFields[i], ARGV[7 + i]) end
end
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'm', ARGV[6])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
if redis.call('HGET', KEYS[1], 'cancel_requested') then return {len, 1} end
return {len, 0}
`;

/** A new job's own keys: its record and first message, with their TTL. */
const CREATE = `
redis.call('HSET', KEYS[1], 'tenant', ARGV[1], 'request', ARGV[2], 'created_at', ARGV[3])
redis.call('XADD', KEYS[2], '*', 'm', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
`;

/** The tenant's index: the new job, expired ones dropped, the TTL renewed. */
const INDEX = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

const FINISH = `
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'finished_at', ARGV[3])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'report', ARGV[6]) end
if ARGV[2] ~= '' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'm', ARGV[2]) end
redis.call('XADD', KEYS[3], '*', 'end', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
`;

export class JobStore {
  private readonly retentionMs: number;
  private readonly appendBatchScript: ScriptCall;
  private readonly createScript: ScriptCall;
  private readonly indexScript: ScriptCall;
  private readonly finishScript: ScriptCall;

  constructor(
    readonly redis: RedisClient,
    readonly prefix: string,
    retentionHours: number,
  ) {
    this.retentionMs = Math.round(retentionHours * 3_600_000);
    this.appendBatchScript = defineScript(redis, 'datagenAppendBatch', APPEND_BATCH, 3);
    this.createScript = defineScript(redis, 'datagenCreate', CREATE, 2);
    this.indexScript = defineScript(redis, 'datagenIndex', INDEX, 1);
    this.finishScript = defineScript(redis, 'datagenFinish', FINISH, 3);
  }

  keys(jobId: string): JobKeys {
    return jobKeys(this.prefix, jobId);
  }

  /** Records a new job and answers its creation time. */
  async create(jobId: string, tenant: string, request: JobRequest, firstMessage: string): Promise<number> {
    const k = this.keys(jobId);
    const now = Date.now();
    // Two scripts (one command each), not two MULTIs: a MULTI builds an ioredis
    // Pipeline, which copies every script defined on the connection (BullMQ
    // defines dozens on the API's), and that was a large part of a POST's CPU.
    const retention = String(this.retentionMs);
    await this.createScript(k.meta, k.messages, tenant, JSON.stringify(request), String(now), firstMessage, retention);
    await this.indexScript(tenantJobsKey(this.prefix, tenant), String(now), jobId, String(now - this.retentionMs), retention);
    return now;
  }

  /**
   * Claims an Idempotency-Key for a job about to be created. Answers null when
   * the claim is new; otherwise the earlier claim (its job, and a hash of the
   * request that made it), so a retried request gets the same job.
   */
  async claimIdempotencyKey(tenant: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyClaim | null> {
    const redisKey = idempotencyKey(this.prefix, tenant, sha256(key));
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await this.redis.set(redisKey, JSON.stringify(claim), 'PX', this.retentionMs, 'NX')) === 'OK') return null;
      const earlier = await this.redis.get(redisKey);
      if (earlier !== null) return JSON.parse(earlier) as IdempotencyClaim;
      // it expired between the two commands: claim again
    }
    throw new Error('could not claim the Idempotency-Key');
  }

  /** Frees a claim whose job could not be created, so a retry may create it. */
  async releaseIdempotencyKey(tenant: string, key: string): Promise<void> {
    await this.redis.del(idempotencyKey(this.prefix, tenant, sha256(key)));
  }

  /** Removes a job that could not be enqueued, so it does not linger as a ghost. */
  async discard(jobId: string, tenant: string): Promise<void> {
    const k = this.keys(jobId);
    await this.redis.del(k.meta, k.data, k.messages);
    await this.redis.zrem(tenantJobsKey(this.prefix, tenant), jobId);
  }

  async getRecord(jobId: string): Promise<JobRecord | null> {
    return toRecord(jobId, await this.redis.hgetall(this.keys(jobId).meta));
  }

  /**
   * Record, data and messages, read in one round trip. `dataAfter`: read only
   * the inputs after the first this many (a reader that has those already:
   * stored inputs never change), or none at all (null); `dataLength` is always
   * the number stored. `messagesAfter`: read only the messages after this
   * entry id (the stream is only ever appended to and trimmed at its start,
   * so a reader that has the earlier ones needs only the new ones, and
   * `firstMessageId` to drop those trimmed since). `messages` holds the texts
   * of the entries read, `messageEntries` those entries with their ids (the
   * end marker's text is null).
   */
  async getSnapshot(
    jobId: string,
    dataAfter: number | null = 0,
    messagesAfter: string | null = null,
  ): Promise<(JobSnapshot & { dataLength: number; messageEntries: MessageEntry[]; firstMessageId: string | null }) | null> {
    const k = this.keys(jobId);
    const tx = this.redis
      .multi()
      .hgetall(k.meta)
      .xlen(k.data)
      .xrange(k.messages, messagesAfter === null ? '-' : `(${messagesAfter}`, '+')
      .xrange(k.messages, '-', '+', 'COUNT', 1);
    // Input n has the id 0-n: the ones after the first `dataAfter` start past 0-dataAfter.
    if (dataAfter !== null) tx.xrange(k.data, dataAfter > 0 ? `(0-${dataAfter}` : '-', '+');
    const results = await tx.exec();
    throwOnPipelineError(results);
    const [meta, dataLength, messages, first, data] = results!.map(([, value]) => value) as [
      Record<string, string>,
      number,
      Array<[string, string[]]>,
      Array<[string, string[]]>,
      Array<[string, string[]]> | undefined,
    ];
    const record = toRecord(jobId, meta);
    if (record === null) return null;
    const messageEntries: MessageEntry[] = messages.map(([id, fields]) => [id, fields[0] === 'm' ? (fields[1] ?? '') : null]);
    return {
      record,
      data: (data ?? []).map(entryValue),
      messages: messages.flatMap(messageText),
      dataLength,
      messageEntries,
      firstMessageId: first[0]?.[0] ?? null,
    };
  }

  /**
   * Every stored input, in order. Read in pages, so a job of 100,000 inputs
   * does not hold Redis's whole reply (an array per entry) next to the strings.
   */
  async readData(jobId: string): Promise<string[]> {
    const key = this.keys(jobId).data;
    const data: string[] = [];
    let after = '-';
    for (;;) {
      const entries = await this.redis.xrange(key, after, '+', 'COUNT', READ_PAGE);
      for (const entry of entries) data.push(entryValue(entry));
      if (entries.length < READ_PAGE) return data;
      after = `(${entries[entries.length - 1]![0]}`; // the next page starts past the last entry read
    }
  }

  async tenantJobIds(tenant: string): Promise<string[]> {
    const index = tenantJobsKey(this.prefix, tenant);
    await this.redis.zremrangebyscore(index, '-inf', Date.now() - this.retentionMs);
    return this.redis.zrange(index, 0, -1);
  }

  /**
   * Appends one batch's accepted inputs at position `storedCount`, adds its
   * usage and message, and answers the job's cancel flag. Throws
   * JobOwnershipLostError when the stream is not where this writer left it.
   */
  async appendBatch(
    jobId: string,
    storedCount: number,
    batch: { accepted: string[]; usage: TokenUsage | null; message: string; counts?: BatchCounts; calls?: number },
  ): Promise<{ length: number; cancelRequested: boolean }> {
    const k = this.keys(jobId);
    const u = batch.usage;
    const [length, cancel] = (await this.appendBatchScript(
      k.meta,
      k.data,
      k.messages,
      String(storedCount),
      String(this.retentionMs),
      String(u?.inputTokens ?? 0),
      String(u?.outputTokens ?? 0),
      String(batch.calls ?? (u === null ? 0 : 1)),
      oneLine(batch.message),
      String(MAX_MESSAGES),
      ...countArgs(batch.counts),
      ...batch.accepted,
    )) as [number, number];
    if (length === -2) throw new JobOwnershipLostError(`job ${jobId} has already ended`, 'ended');
    if (length === -1) throw new JobOwnershipLostError(`job ${jobId} was written by another worker`, 'conflict');
    return { length, cancelRequested: cancel === 1 };
  }

  async addMessage(jobId: string, text: string): Promise<void> {
    const { messages } = this.keys(jobId);
    // Every write renews the TTL, so no key of a job outlives the others.
    await this.redis
      .multi()
      .xadd(messages, 'MAXLEN', '~', MAX_MESSAGES, '*', 'm', oneLine(text))
      .pexpire(messages, this.retentionMs)
      .exec()
      .then(throwOnPipelineError);
  }

  async saveThemes(jobId: string, themes: string[]): Promise<void> {
    const { meta } = this.keys(jobId);
    await this.redis.multi().hset(meta, 'themes', JSON.stringify(themes)).pexpire(meta, this.retentionMs).exec().then(throwOnPipelineError);
  }

  async saveGeneratedSeeds(jobId: string, seeds: string[]): Promise<void> {
    const { meta } = this.keys(jobId);
    await this.redis.multi().hset(meta, 'generated_seeds', JSON.stringify(seeds)).pexpire(meta, this.retentionMs).exec().then(throwOnPipelineError);
  }

  /** Ends the job with its terminal state, once: a second call changes nothing and answers false. */
  async finish(jobId: string, state: TerminalState, message: string, report?: JobReport): Promise<boolean> {
    const k = this.keys(jobId);
    const done = await this.finishScript(
      k.meta,
      k.data,
      k.messages,
      state,
      oneLine(message),
      String(Date.now()),
      String(this.retentionMs),
      String(MAX_MESSAGES),
      report === undefined ? '' : JSON.stringify(report),
    );
    return done === 1;
  }

  /** Flags the job cancelled and tells the workers at once. */
  async requestCancel(jobId: string): Promise<void> {
    const { meta } = this.keys(jobId);
    await this.redis.multi().hset(meta, 'cancel_requested', '1').pexpire(meta, this.retentionMs).exec().then(throwOnPipelineError);
    await this.redis.publish(cancelChannel(this.prefix), jobId);
  }
}

type ScriptCall = (...keysAndArgs: string[]) => Promise<unknown>;

/**
 * A Lua script as a command of the client (ioredis `defineCommand`): sent as
 * EVALSHA, and as EVAL only when the server does not have it yet (NOSCRIPT),
 * so the script text does not travel with every call. On a Redis Cluster the
 * client sends it to the node owning the keys' slot and loads it there the same way.
 */
function defineScript(redis: RedisClient, name: string, lua: string, numberOfKeys: number): ScriptCall {
  const commands = redis as unknown as Record<string, ScriptCall | undefined>;
  if (typeof commands[name] !== 'function') redis.defineCommand(name, { lua, numberOfKeys });
  return (...keysAndArgs) => commands[name]!.apply(redis, keysAndArgs);
}

/** Messages are one line each: the messages stream sends one per line. */
function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ');
}

function countArgs(counts: BatchCounts | undefined): string[] {
  const c = counts ?? NO_COUNTS;
  return [c.candidates, c.exactDuplicates, c.nearDuplicates, c.filtered, c.unusableAnswers, c.bad].map(String);
}

/** The state a stream entry of the messages stream ends the job with, if it is the end marker. */
export function endMarker(fields: string[]): TerminalState | null {
  return fields[0] === 'end' ? (fields[1] as TerminalState) : null;
}

export function entryValue([, fields]: [string, string[]]): string {
  return fields[1] ?? '';
}

function messageText([, fields]: [string, string[]]): string[] {
  return fields[0] === 'm' ? [fields[1] ?? ''] : [];
}

function toRecord(jobId: string, meta: Record<string, string>): JobRecord | null {
  if (meta.request === undefined || meta.tenant === undefined) return null;
  return {
    jobId,
    tenant: meta.tenant,
    request: JSON.parse(meta.request) as JobRequest,
    createdAt: Number(meta.created_at),
    state: (meta.state as TerminalState | undefined) ?? null,
    cancelRequested: meta.cancel_requested === '1',
    generatedSeeds: meta.generated_seeds !== undefined ? (JSON.parse(meta.generated_seeds) as string[]) : null,
    themes: meta.themes !== undefined ? (JSON.parse(meta.themes) as string[]) : null,
    usage: {
      inputTokens: Number(meta.tokens_in ?? 0),
      outputTokens: Number(meta.tokens_out ?? 0),
      calls: Number(meta.llm_calls ?? 0),
    },
    counts: {
      candidates: Number(meta.candidates ?? 0),
      exactDuplicates: Number(meta.rejected_exact ?? 0),
      nearDuplicates: Number(meta.rejected_near ?? 0),
      filtered: Number(meta.rejected_filtered ?? 0),
      unusableAnswers: Number(meta.unusable_answers ?? 0),
      bad: Number(meta.rejected_bad ?? 0),
    },
    report: meta.report !== undefined ? (JSON.parse(meta.report) as JobReport) : null,
  };
}

function throwOnPipelineError(results: Array<[Error | null, unknown]> | null): void {
  if (results === null) throw new Error('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
}
