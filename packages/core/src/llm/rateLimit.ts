import path from 'node:path';
import type { RedisClient } from '../redis/connection';
import { loadLuaScript, runScript } from '../redis/scripts';
import { isThrottleError } from './errors';
import type { GenerateBatchRequest, GenerateBatchResult, LlmProvider, ThrottleSignal } from './provider';

/**
 * One rate limit for all workers, and a concurrency that adapts to push-back.
 * docs/reliability.md ("Rate limits and fairness") explains the whole scheme.
 *
 * - SharedRateLimiter: token buckets for requests/min and tokens/min in one
 *   Redis hash that every worker process shares, plus a shared cooldown
 *   ("no calls before T") set when the API answers 429 with retry-after.
 * - AdaptiveConcurrency: calls in flight per process, AIMD (halve on 429/529,
 *   +1 per `limit` successes), with a FIFO queue of waiting calls.
 * - RateLimitedProvider: an LlmProvider wrapping another with both.
 */

/** The one Redis key of the shared limits: a hash (buckets and cooldown) under one hash tag, so it works on Redis Cluster. */
export function rateLimitKey(keyPrefix: string): string {
  return `${keyPrefix}:llm-rate:{limits}`;
}

/** The whole limiter in one script (lua/rateLimit.lua says what it does). */
const LIMITER = loadLuaScript(path.join(__dirname, 'lua'), 'rateLimit');

export interface RateLimits {
  /** Requests per minute across all workers; 0: unlimited. */
  requestsPerMinute: number;
  /** Tokens (input + output) per minute across all workers; 0: unlimited. */
  tokensPerMinute: number;
}

export interface SharedRateLimiterOptions extends RateLimits {
  keyPrefix: string;
  /** Requests that may go at once after a quiet spell (the bucket's size). Default: 10 seconds' worth, at least 1. */
  requestBurst?: number;
  /** Tokens that may go at once after a quiet spell. Default: 10 seconds' worth, at least 1. */
  tokenBurst?: number;
  /** The longest shared pause one retry-after may impose. Default 60 s. */
  maxCooldownMs?: number;
  /** For the jitter added to waits (so waiting processes do not all ask at the same moment). */
  random?: () => number;
  /** Hold each key (a call's `tenant`) to its share of the request budget while other keys are active too (LLM_FAIR_SHARE). Default true. */
  fairShare?: boolean;
}

export interface RateGrant {
  /** When the call was let through: Redis server time in ms (local time when unlimited). */
  at: number;
  /** How many times the limiter waited before letting it through. */
  waits: number;
}

const DEFAULT_BURST_SECONDS = 10;
const DEFAULT_MAX_COOLDOWN_MS = 60_000;

/**
 * Token buckets for requests and tokens per minute, shared by every worker
 * process through Redis. With both limits 0 it never touches Redis, and a
 * cooldown then holds for this process only.
 */
export class SharedRateLimiter {
  readonly key: string;
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
  readonly requestBurst: number;
  readonly tokenBurst: number;
  private readonly maxCooldownMs: number;
  private readonly ttlMs: number;
  private readonly random: () => number;
  /**
   * Per key (tenant), one acquirer of this process talks to Redis at a time, in
   * arrival order: fair, and no stampede at refill time. One queue a key, so a
   * call waiting for its key's share never holds up another key's calls.
   */
  private readonly turns = new Map<string, FifoQueue>();
  /** Hold each key to its share of the request budget while other keys are active too. */
  private readonly fairShare: boolean;
  /** Local end of the cooldown, in local ms (used when the limits are unlimited). */
  private localCooldownUntil = 0;

  constructor(
    private readonly redis: RedisClient | null,
    options: SharedRateLimiterOptions,
  ) {
    this.key = rateLimitKey(options.keyPrefix);
    this.requestsPerMinute = nonNegative(options.requestsPerMinute, 'requestsPerMinute');
    this.tokensPerMinute = nonNegative(options.tokensPerMinute, 'tokensPerMinute');
    this.requestBurst = burst(options.requestBurst, this.requestsPerMinute, 'requestBurst');
    this.tokenBurst = burst(options.tokenBurst, this.tokensPerMinute, 'tokenBurst');
    this.maxCooldownMs = options.maxCooldownMs ?? DEFAULT_MAX_COOLDOWN_MS;
    this.random = options.random ?? Math.random;
    this.fairShare = options.fairShare ?? true;
    // Long enough for an idle bucket to refill completely: expiry then loses nothing.
    const refill = (size: number, perMinute: number) => (perMinute > 0 ? (size / perMinute) * 60_000 : 0);
    this.ttlMs = Math.ceil(Math.max(refill(this.requestBurst, this.requestsPerMinute), refill(this.tokenBurst, this.tokensPerMinute)) + 60_000);
    if (!this.unlimited && redis === null) throw new Error('a rate limit needs Redis: pass a connection, or set both limits to 0');
  }

  /** Both limits 0: no buckets, no Redis. */
  get unlimited(): boolean {
    return this.requestsPerMinute === 0 && this.tokensPerMinute === 0;
  }

  /**
   * Waits until one request and `estimatedTokens` tokens are free in the shared
   * buckets (and any shared cooldown is over), then takes them. Rejects with
   * the signal's reason when it fires.
   */
  async acquire(estimatedTokens: number, signal?: AbortSignal, tenant = ''): Promise<RateGrant> {
    signal?.throwIfAborted();
    const tokens = Math.max(0, Math.ceil(estimatedTokens));
    if (this.unlimited) {
      let waits = 0;
      for (let wait = this.localCooldownUntil - Date.now(); wait > 0; wait = this.localCooldownUntil - Date.now()) {
        waits++;
        await sleep(wait, signal);
      }
      return { at: Date.now(), waits };
    }
    let turn = this.turns.get(tenant);
    if (turn === undefined) this.turns.set(tenant, (turn = new FifoQueue(() => 1)));
    await turn.acquire(signal);
    try {
      for (let waits = 0; ; waits++) {
        const [granted, waitMs, now] = await abortable(this.run('take', tokens, tenant), signal);
        if (granted === 1) return { at: now!, waits };
        await sleep(waitMs! + Math.floor(this.random() * Math.min(25, 1 + waitMs! / 10)), signal);
      }
    } finally {
      turn.release();
      if (turn.active === 0 && turn.waiting === 0) this.turns.delete(tenant);
    }
  }

  /**
   * After a call: corrects the token bucket by what the call really used
   * (gives back an overestimate, charges an underestimate). Answers the Redis
   * time of the correction, or null when there was nothing to send.
   */
  async settle(estimatedTokens: number, actualTokens: number): Promise<number | null> {
    const delta = Math.ceil(estimatedTokens) - Math.ceil(actualTokens);
    if (this.tokensPerMinute === 0 || delta === 0 || !Number.isFinite(delta)) return null;
    const [, , now] = await this.run('adjust', delta);
    return now!;
  }

  /**
   * "No calls before now + ms", for every process sharing the limits (only
   * this one when unlimited). A later end wins over an earlier one. Answers
   * the end (Redis time, or local time when unlimited).
   */
  async cooldown(ms: number): Promise<number> {
    const pause = Math.min(this.maxCooldownMs, Math.max(0, Math.ceil(ms)));
    if (this.unlimited) {
      this.localCooldownUntil = Math.max(this.localCooldownUntil, Date.now() + pause);
      return this.localCooldownUntil;
    }
    const [, , , until] = await this.run('cooldown', pause);
    return until!;
  }

  private async run(mode: 'take' | 'adjust' | 'cooldown', amount: number, tenant = ''): Promise<number[]> {
    const args = {
      mode,
      rpm: this.requestsPerMinute,
      rcap: this.requestBurst,
      tpm: this.tokensPerMinute,
      tcap: this.tokenBurst,
      amount,
      ttl: this.ttlMs,
      tenant,
      fair: this.fairShare,
    };
    return (await runScript(this.redis!, LIMITER, [this.key], [JSON.stringify(args)])) as number[];
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be 0 (unlimited) or more, got ${value}`);
  return value;
}

function burst(given: number | undefined, perMinute: number, name: string): number {
  if (given !== undefined) {
    if (!Number.isFinite(given) || given < 1) throw new Error(`${name} must be at least 1, got ${given}`);
    return given;
  }
  return Math.max(1, Math.floor((perMinute * DEFAULT_BURST_SECONDS) / 60));
}

// ---------------------------------------------------------------------------
// Adaptive concurrency

export interface AdaptiveConcurrencyOptions {
  /** Told whenever the limit changes. */
  onChange?: (limit: number, reason: 'throttled' | 'recovered') => void;
}

/** One call's place among those in flight; release it exactly once (later calls are ignored). */
export interface ConcurrencySlot {
  /** The call succeeded: counts towards growing the limit. */
  succeeded(): void;
  /** The API pushed back on this call (429/529): halves the limit, once per round of calls. */
  throttled(): void;
  release(): void;
}

/**
 * How many LLM calls one process has in flight, across all its jobs: AIMD
 * like TCP's congestion window. Starts at `max`; a throttled call halves it
 * (at least 1); each success adds 1/limit, so the limit grows by 1 once a
 * whole limit's worth of calls succeeded, up to `max`. Only calls that started
 * after the last decrease count: a burst of 429s from calls that were already
 * in flight halves the limit once, not once each, and their successes do not
 * vouch for the new limit.
 * Waiting calls are served first come, first served.
 */
export class AdaptiveConcurrency {
  readonly max: number;
  private current: number;
  private successes = 0;
  /** Counts decreases; a slot remembers the epoch it started in. */
  private epoch = 0;
  private readonly queue: FifoQueue;
  readonly stats = { decreases: 0, increases: 0, maxInFlight: 0 };

  constructor(
    max: number,
    private readonly options: AdaptiveConcurrencyOptions = {},
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`the concurrency limit must be a whole number of at least 1, got ${max}`);
    this.max = max;
    this.current = max;
    this.queue = new FifoQueue(() => this.current);
  }

  get limit(): number {
    return this.current;
  }

  /** Calls in flight now. */
  get active(): number {
    return this.queue.active;
  }

  /** Calls waiting for a slot. */
  get waiting(): number {
    return this.queue.waiting;
  }

  /** Waits (first come, first served) for a free slot; rejects with the signal's reason when it fires first. */
  async acquire(signal?: AbortSignal): Promise<ConcurrencySlot> {
    await this.queue.acquire(signal);
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.queue.active);
    const epoch = this.epoch;
    let released = false;
    let counted = false;
    return {
      succeeded: () => {
        if (counted || released) return;
        counted = true;
        this.onSuccess(epoch);
      },
      throttled: () => {
        if (counted || released) return;
        counted = true;
        this.onThrottled(epoch);
      },
      release: () => {
        if (released) return;
        released = true;
        this.queue.release();
      },
    };
  }

  private onSuccess(epoch: number): void {
    // Only calls started at the current limit vouch for it.
    if (epoch !== this.epoch || this.current >= this.max) return;
    this.successes++;
    if (this.successes < this.current) return;
    this.successes = 0;
    this.current++;
    this.stats.increases++;
    this.options.onChange?.(this.current, 'recovered');
    this.queue.wake();
  }

  private onThrottled(epoch: number): void {
    if (epoch !== this.epoch) return; // started before the last decrease: that one already answered this round
    this.epoch++;
    this.successes = 0;
    const next = Math.max(1, Math.floor(this.current / 2));
    if (next === this.current) return;
    this.current = next;
    this.stats.decreases++;
    this.options.onChange?.(this.current, 'throttled');
  }
}

// ---------------------------------------------------------------------------
// The provider wrapper

export interface RateLimitedProviderOptions {
  limiter: SharedRateLimiter;
  concurrency: AdaptiveConcurrency;
  /** Output allowance per requested input, for the estimate taken before a call. Default 300 (as maxTokensFor). */
  outputTokensPerInput?: number;
}

/**
 * Tokens a call will likely use, taken before it and corrected after: the
 * prompt at about 4 characters a token, plus an output allowance per input.
 */
export function estimateTokens(request: Pick<GenerateBatchRequest, 'system' | 'prompt' | 'count'>, outputTokensPerInput = 300): number {
  const input = Math.ceil((request.system.length + request.prompt.length) / 4);
  return input + 100 + outputTokensPerInput * Math.max(1, request.count);
}

/**
 * An LlmProvider that holds another to the limits: a concurrency slot, then
 * the shared rate tokens, then the call, then the token correction, then the
 * slot back. The shared rate tokens are taken again before every further HTTP
 * request of the call (the SDK's own retries), through the request's
 * `beforeRetry`, so the limit counts requests, not calls. A throttled call
 * (429/529) lowers this process's concurrency, and a retry-after becomes a
 * cooldown for every worker; the error is rethrown unchanged, for the engine
 * to retry with backoff.
 */
export class RateLimitedProvider implements LlmProvider {
  readonly name: string;
  readonly isLlm: boolean;
  readonly limiter: SharedRateLimiter;
  readonly concurrency: AdaptiveConcurrency;
  private readonly outputTokensPerInput: number;

  constructor(
    private readonly inner: LlmProvider,
    options: RateLimitedProviderOptions,
  ) {
    this.name = inner.name;
    this.isLlm = inner.isLlm;
    this.limiter = options.limiter;
    this.concurrency = options.concurrency;
    this.outputTokensPerInput = options.outputTokensPerInput ?? 300;
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const slot = await this.concurrency.acquire(request.signal);
    try {
      const estimate = estimateTokens(request, this.outputTokensPerInput);
      await this.limiter.acquire(estimate, request.signal, request.tenant);
      // Providers that retry by themselves report each throttled attempt here; the others only fail.
      let reported = false;
      const onThrottled = (signal: ThrottleSignal) => {
        reported = true;
        this.throttled(slot, signal);
        request.onThrottled?.(signal);
      };
      // Every HTTP request counts, not every call: a provider whose SDK retries by itself (or that asks
      // twice) waits here before each request after the first, for one more request from the shared
      // bucket and the same token estimate, since a retry sends the same prompt again. What a failed
      // attempt took stays taken, as for a failed call (the API may count it); only the attempt that
      // answers is corrected by its usage below.
      const beforeRetry = async (attempt: number, signal?: AbortSignal) => {
        await this.limiter.acquire(estimate, signal ?? request.signal, request.tenant);
        await request.beforeRetry?.(attempt, signal);
      };
      let result: GenerateBatchResult;
      try {
        result = await this.inner.generateBatch({ ...request, onThrottled, beforeRetry });
      } catch (error) {
        // A throttled call's tokens stay taken: the API may count them, and slowing down is the point.
        if (isThrottleError(error)) {
          const signal: ThrottleSignal = { kind: error.kind, ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }) };
          this.throttled(slot, signal);
          if (!reported) request.onThrottled?.(signal);
        }
        throw error;
      }
      slot.succeeded();
      const used = result.usage.inputTokens + result.usage.outputTokens;
      // Not awaited: the answer is ready, and a slow Redis must not hold it.
      this.limiter.settle(estimate, used).catch(() => undefined);
      return result;
    } finally {
      slot.release();
    }
  }

  /** This provider for the calls of one key (tenant): they are held to its share, and counted for it. */
  forTenant(tenant: string, onCall?: () => void): LlmProvider {
    return {
      name: this.name,
      isLlm: this.isLlm,
      generateBatch: (request) => {
        onCall?.();
        return this.generateBatch({ ...request, tenant });
      },
    };
  }

  /** Fewer calls at once in this process; with a retry-after, a pause for every worker. */
  private throttled(slot: ConcurrencySlot, signal: ThrottleSignal): void {
    slot.throttled();
    if (signal.retryAfterMs !== undefined && signal.retryAfterMs > 0) this.limiter.cooldown(signal.retryAfterMs).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

/** A FIFO queue of waiters for a number of places that may change (`capacity`). */
class FifoQueue {
  private inUse = 0;
  private readonly waiters: Array<{ grant: () => void }> = [];

  constructor(private readonly capacity: () => number) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && this.inUse < this.capacity()) {
      this.inUse++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(abortReason(signal!));
        this.wake(); // a waiter behind this one may fit now
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    this.inUse = Math.max(0, this.inUse - 1);
    this.wake();
  }

  /** Lets waiters in, in order, while there is room. */
  wake(): void {
    while (this.waiters.length > 0 && this.inUse < this.capacity()) {
      this.inUse++;
      this.waiters.shift()!.grant();
    }
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or the signal's reason as soon as it fires (the promise itself runs on, unobserved). */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      promise.catch(() => undefined);
      return reject(abortReason(signal));
    }
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
