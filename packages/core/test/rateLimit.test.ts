import { randomBytes } from 'node:crypto';
import { APIUserAbortError as AnthropicAbortError } from '@anthropic-ai/sdk';
import type { RedisOptions } from 'ioredis';
import { APIUserAbortError as OpenAIAbortError } from 'openai';
import {
  AdaptiveConcurrency,
  AnthropicProvider,
  ConfigError,
  OpenAICompatibleProvider,
  connect,
  RateLimitedProvider,
  RetryableLlmError,
  SharedRateLimiter,
  estimateTokens,
  isThrottleError,
  loadConfig,
  rateLimitKey,
  retryAfterMsOf,
  type GenerateBatchRequest,
  type GenerateBatchResult,
  type LlmProvider,
  type RateGrant,
  type RedisClient,
  type SharedRateLimiterOptions,
} from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicOptions } from '../src/testing/fakeAnthropic';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '../src/testing/fakeOpenAI';
import { batchRequest, failure, fakeServers } from './helpers/providerCalls';

/**
 * The shared rate limiter against the real Redis, two connections standing
 * for two worker processes; the adaptive concurrency and the provider
 * wrapper with scripted providers, and with the real SDKs over HTTP against
 * the fake servers (which count every request, SDK retries included).
 * Assertions are on counts and on the Redis clock the limiter reports, never
 * on how long something took.
 */

/** A new connection to the test Redis: a single server, or a cluster when REDIS_MODE=cluster. */
function connection(options: RedisOptions = {}): RedisClient {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the jest global setup sets it)');
  const cluster = process.env.REDIS_MODE?.trim() === 'cluster';
  const c = connect({ redisMode: cluster ? 'cluster' : 'standalone', redisNodes: url.split(',').map((u) => u.trim()) }, options);
  connections.push(c);
  return c;
}

const connections: RedisClient[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  // Every limiter key carries the same hash tag, so one DEL may take them all, on a cluster too.
  if (prefixes.length > 0) await connection().del(...prefixes.splice(0).map(rateLimitKey));
  for (const c of connections.splice(0)) c.disconnect();
});

function newPrefix(): string {
  const prefix = `rl${randomBytes(5).toString('hex')}`;
  prefixes.push(prefix);
  return prefix;
}

/** Two limiters on two connections sharing one prefix: two "workers". */
function twoWorkers(options: Omit<SharedRateLimiterOptions, 'keyPrefix'>): [SharedRateLimiter, SharedRateLimiter] {
  const keyPrefix = newPrefix();
  return [new SharedRateLimiter(connection(), { keyPrefix, ...options }), new SharedRateLimiter(connection(), { keyPrefix, ...options })];
}

function request(count = 5, overrides: Partial<GenerateBatchRequest> = {}): GenerateBatchRequest {
  return {
    system: 'You write inputs.',
    prompt: 'Write 5 new inputs.',
    count,
    temperature: 1,
    context: { applicationDescription: 'x', shots: [], seeds: [], explorationMode: 'BALANCED', batchNumber: 1 },
    ...overrides,
  };
}

const EPSILON = 1e-6;

describe('SharedRateLimiter', () => {
  it('holds requests per minute across two workers: grants never exceed burst + rate x elapsed (Redis time)', async () => {
    const requestsPerMinute = 600; // 10 a second
    const burst = 3;
    const [a, b] = twoWorkers({ requestsPerMinute, tokensPerMinute: 0, requestBurst: burst });
    const perWorker = 8;
    const grants = (
      await Promise.all([
        Promise.all(Array.from({ length: perWorker }, () => a.acquire(1))),
        Promise.all(Array.from({ length: perWorker }, () => b.acquire(1))),
      ])
    ).flat();

    expect(grants).toHaveLength(2 * perWorker);
    const times = grants.map((g) => g.at).sort((x, y) => x - y);
    const t0 = times[0]!; // the bucket is created full by the first grant
    times.forEach((t, k) => {
      expect(k + 1).toBeLessThanOrEqual(burst + (requestsPerMinute / 60_000) * (t - t0) + EPSILON);
    });
    // The limit did bite: beyond the burst, callers had to wait.
    expect(grants.reduce((n, g) => n + g.waits, 0)).toBeGreaterThan(0);
  });

  it('holds tokens per minute across two workers, counting the corrections made after each call', async () => {
    const tokensPerMinute = 120_000; // 2 a millisecond
    const burst = 1000;
    const [a, b] = twoWorkers({ requestsPerMinute: 0, tokensPerMinute, tokenBurst: burst });
    type Event = { kind: 'grant'; at: number; tokens: number } | { kind: 'settle'; at: number; delta: number };
    const events: Event[] = [];
    // Each call is estimated at 100 tokens and turns out to use 250: each correction charges 150 more.
    const worker = async (limiter: SharedRateLimiter) => {
      for (let i = 0; i < 6; i++) {
        const grant = await limiter.acquire(100);
        events.push({ kind: 'grant', at: grant.at, tokens: 100 });
        const at = await limiter.settle(100, 250);
        expect(at).not.toBeNull();
        events.push({ kind: 'settle', at: at!, delta: 150 });
      }
    };
    await Promise.all([worker(a), worker(b)]);

    const grants = events.filter((e): e is Extract<Event, { kind: 'grant' }> => e.kind === 'grant');
    const settles = events.filter((e): e is Extract<Event, { kind: 'settle' }> => e.kind === 'settle');
    const t0 = Math.min(...grants.map((g) => g.at));
    for (const grant of grants) {
      // Everything charged up to this grant: the estimates granted so far, and the corrections made before it.
      const estimates = grants.filter((g) => g.at <= grant.at).reduce((n, g) => n + g.tokens, 0);
      const corrections = settles.filter((s) => s.at < grant.at).reduce((n, s) => n + s.delta, 0);
      expect(estimates + corrections).toBeLessThanOrEqual(burst + (tokensPerMinute / 60_000) * (grant.at - t0) + EPSILON);
    }
    expect(grants.reduce((n, g) => n + (g.kind === 'grant' ? 1 : 0), 0)).toBe(12);
  });

  it('gives back an overestimate at once and charges an underestimate', async () => {
    const [limiter] = twoWorkers({ requestsPerMinute: 0, tokensPerMinute: 600, tokenBurst: 1000 }); // 10 tokens a second
    expect((await limiter.acquire(900)).waits).toBe(0);
    // Without the refund, 800 more tokens would take over a minute to come back.
    await limiter.settle(900, 100);
    expect((await limiter.acquire(800)).waits).toBe(0);
    // The call used far more than its estimate: the bucket is in debt, and the next call waits.
    await limiter.settle(800, 1900);
    const controller = new AbortController();
    const waiting = limiter.acquire(1, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('lets a call bigger than the bucket through once the bucket is full', async () => {
    const [limiter] = twoWorkers({ requestsPerMinute: 0, tokensPerMinute: 60_000, tokenBurst: 100 });
    expect((await limiter.acquire(5000)).waits).toBe(0);
  });

  it('never touches Redis when both limits are 0', async () => {
    const lazy = connection({ lazyConnect: true });
    const keyPrefix = newPrefix();
    const limiter = new SharedRateLimiter(lazy, { keyPrefix, requestsPerMinute: 0, tokensPerMinute: 0 });
    expect(limiter.unlimited).toBe(true);
    const grants = await Promise.all(Array.from({ length: 100 }, () => limiter.acquire(10_000)));
    expect(grants.every((g) => g.waits === 0)).toBe(true);
    expect(await limiter.settle(100, 5000)).toBeNull();
    await limiter.cooldown(1);
    await limiter.acquire(1);
    expect(lazy.status).toBe('wait'); // never connected: no command was ever sent
    expect(await connection().exists(rateLimitKey(keyPrefix))).toBe(0);
    // And it needs no connection at all.
    await new SharedRateLimiter(null, { keyPrefix, requestsPerMinute: 0, tokensPerMinute: 0 }).acquire(1);
    expect(() => new SharedRateLimiter(null, { keyPrefix, requestsPerMinute: 1, tokensPerMinute: 0 })).toThrow(/needs Redis/);
  });

  it('rejects a waiting acquire when its signal fires, also one queued behind another, and keeps working', async () => {
    const [limiter, other] = twoWorkers({ requestsPerMinute: 1, tokensPerMinute: 0, requestBurst: 1 });
    await limiter.acquire(1);
    const first = new AbortController();
    const second = new AbortController();
    const waiting = limiter.acquire(1, first.signal); // waits on Redis's answer (a minute)
    const queued = limiter.acquire(1, second.signal); // waits for its turn behind the first
    setTimeout(() => second.abort(), 20);
    setTimeout(() => first.abort(), 40);
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // Already aborted: rejects without waiting.
    await expect(other.acquire(1, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    // The aborted waiters left nothing stuck behind them: a cooldown-free, roomy limiter still grants.
    const [roomy] = twoWorkers({ requestsPerMinute: 6000, tokensPerMinute: 0 });
    expect((await roomy.acquire(1)).waits).toBe(0);
  });

  it('shares a cooldown: a retry-after seen by one worker pauses the other', async () => {
    const [a, b] = twoWorkers({ requestsPerMinute: 60_000, tokensPerMinute: 0 });
    expect((await b.acquire(1)).waits).toBe(0);
    const until = await a.cooldown(300);
    const grant: RateGrant = await b.acquire(1);
    expect(grant.waits).toBeGreaterThan(0);
    expect(grant.at).toBeGreaterThanOrEqual(until);
    // A shorter cooldown does not cut a longer one short.
    const longer = await a.cooldown(400);
    expect(await b.cooldown(10)).toBe(longer);
  });

  it('caps a cooldown at maxCooldownMs', async () => {
    const keyPrefix = newPrefix();
    const a = new SharedRateLimiter(connection(), { keyPrefix, requestsPerMinute: 60_000, tokensPerMinute: 0, maxCooldownMs: 100 });
    const b = new SharedRateLimiter(connection(), { keyPrefix, requestsPerMinute: 60_000, tokensPerMinute: 0 });
    const before = await b.acquire(1);
    const until = await a.cooldown(3_600_000);
    expect(until - before.at).toBeLessThan(60_000);
    expect((await b.acquire(1)).at).toBeGreaterThanOrEqual(until);
  });

  it('keeps its state in one key with one hash tag, which expires', async () => {
    const [limiter] = twoWorkers({ requestsPerMinute: 60, tokensPerMinute: 6000 });
    await limiter.acquire(10);
    const redis = connection();
    expect(limiter.key).toMatch(/:llm-rate:\{limits\}$/);
    const ttl = await redis.pttl(limiter.key);
    expect(ttl).toBeGreaterThan(0);
    expect(Object.keys(await redis.hgetall(limiter.key)).sort()).toEqual(['r', 'rt', 't', 'tt']);
  });

  it('refuses nonsense limits', () => {
    expect(() => new SharedRateLimiter(null, { keyPrefix: 'x', requestsPerMinute: -1, tokensPerMinute: 0 })).toThrow(/requestsPerMinute/);
    expect(() => new SharedRateLimiter(null, { keyPrefix: 'x', requestsPerMinute: 0, tokensPerMinute: 0, tokenBurst: 0 })).toThrow(/tokenBurst/);
  });
});

describe('SharedRateLimiter: fair share between keys', () => {
  /** Four "workers" for 5 s: three busy with key A's calls, one with key B's; answers how many calls each key got. */
  async function share(fairShare: boolean): Promise<{ a: number; b: number }> {
    const keyPrefix = newPrefix();
    const workers = Array.from({ length: 4 }, () => new SharedRateLimiter(connection(), { keyPrefix, requestsPerMinute: 240, tokensPerMinute: 0, requestBurst: 2, fairShare }));
    const got = { a: 0, b: 0 };
    const stop = new AbortController();
    const loop = async (limiter: SharedRateLimiter, key: 'a' | 'b') => {
      for (;;) {
        try {
          await limiter.acquire(1, stop.signal, `tenant-${key}`);
        } catch {
          return; // stopped
        }
        got[key]++;
      }
    };
    const loops = [loop(workers[0]!, 'a'), loop(workers[1]!, 'a'), loop(workers[2]!, 'a'), loop(workers[3]!, 'b')];
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    stop.abort();
    await Promise.all(loops);
    return got;
  }

  it('holds a key to its share of the request budget while another key asks too, whatever its number of workers', async () => {
    const fair = await share(true);
    const unfair = await share(false);
    const shareOf = (g: { a: number; b: number }) => g.b / (g.a + g.b);
    console.log(`4 workers, 3 asking for key A and 1 for key B, 4 requests/s shared: with the fair share B got ${fair.b} of ${fair.a + fair.b} (${(100 * shareOf(fair)).toFixed(0)}%), without it ${unfair.b} of ${unfair.a + unfair.b} (${(100 * shareOf(unfair)).toFixed(0)}%)`);
    // Two keys active: each may take half; without the share, B gets about the quarter its one worker wins.
    expect(shareOf(fair)).toBeGreaterThan(0.35);
    expect(fair.a + fair.b).toBeLessThanOrEqual(2 + 4 * 5.5); // the global budget still holds: burst + 4/s
  }, 30_000);
});

describe('AdaptiveConcurrency', () => {
  it('halves on a rate limit, once per round of calls, never below 1', async () => {
    const changes: Array<[number, string]> = [];
    const c = new AdaptiveConcurrency(8, { onChange: (limit, reason) => changes.push([limit, reason]) });
    expect(c.limit).toBe(8);

    const a = await c.acquire();
    const b = await c.acquire();
    a.throttled();
    expect(c.limit).toBe(4);
    // b was in flight before the decrease: its 429 belongs to the same round.
    b.throttled();
    expect(c.limit).toBe(4);
    a.release();
    b.release();

    for (const expected of [2, 1, 1, 1]) {
      const slot = await c.acquire();
      slot.throttled();
      slot.release();
      expect(c.limit).toBe(expected);
    }
    expect(c.stats.decreases).toBe(3);
    expect(changes).toEqual([
      [4, 'throttled'],
      [2, 'throttled'],
      [1, 'throttled'],
    ]);
  });

  it('grows by 1 per limit-worth of successes, up to max and no further', async () => {
    const c = new AdaptiveConcurrency(5);
    for (let i = 0; i < 3; i++) {
      const slot = await c.acquire();
      slot.throttled();
      slot.release();
    }
    expect(c.limit).toBe(1);
    const limits: number[] = [];
    for (let i = 0; i < 30; i++) {
      const slot = await c.acquire();
      slot.succeeded();
      slot.release();
      limits.push(c.limit);
    }
    // 1 success at 1, 2 at 2, 3 at 3, 4 at 4: 10 successes from 1 to 5.
    expect(limits.slice(0, 10)).toEqual([2, 2, 3, 3, 3, 4, 4, 4, 4, 5]);
    expect(limits.slice(10).every((l) => l === 5)).toBe(true);
    expect(c.stats.increases).toBe(4);
  });

  it('lets calls wait first come, first served, and a waiter can give up', async () => {
    const c = new AdaptiveConcurrency(1);
    const first = await c.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const x = c.acquire().then((s) => (order.push('x'), s));
    const gaveUp = c.acquire(controller.signal);
    const y = c.acquire().then((s) => (order.push('y'), s));
    expect(c.waiting).toBe(3);
    controller.abort();
    await expect(gaveUp).rejects.toMatchObject({ name: 'AbortError' });
    expect(c.waiting).toBe(2);
    first.release();
    (await x).release();
    (await y).release();
    expect(order).toEqual(['x', 'y']);
    expect(c.active).toBe(0);
    expect(c.stats.maxInFlight).toBe(1);
  });

  it('counts each slot once: a second release or report is ignored', async () => {
    const c = new AdaptiveConcurrency(4);
    const slot = await c.acquire();
    slot.throttled();
    slot.throttled();
    slot.succeeded();
    slot.release();
    slot.release();
    expect(c.limit).toBe(2);
    expect(c.active).toBe(0);
  });
});

/** Counts the calls in flight at each start, and fails the calls it is told to with a 429. */
class ScriptedProvider implements LlmProvider {
  readonly name = 'scripted';
  readonly isLlm = true;
  active = 0;
  started: Array<{ id: number; active: number; limit: number }> = [];

  constructor(
    private readonly concurrency: () => AdaptiveConcurrency,
    private readonly throttle: Set<number>,
    private readonly usage = { inputTokens: 10, outputTokens: 10 },
  ) {}

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const id = request.context.batchNumber;
    this.active++;
    this.started.push({ id, active: this.active, limit: this.concurrency().limit });
    await new Promise((r) => setTimeout(r, 2 + (id % 3)));
    this.active--;
    if (this.throttle.has(id)) throw new RetryableLlmError('429', { kind: 'rate_limit' });
    return { candidates: { inputs: [`input ${id}`] }, usage: this.usage };
  }
}

describe('RateLimitedProvider', () => {
  it('never has more calls in flight than the limit, serves them in order, and slows down on 429s', async () => {
    const scripted = new ScriptedProvider((): AdaptiveConcurrency => provider.concurrency, new Set([3, 10, 11]));
    const provider: RateLimitedProvider = new RateLimitedProvider(scripted, {
      limiter: new SharedRateLimiter(null, { keyPrefix: 'unused', requestsPerMinute: 0, tokensPerMinute: 0 }),
      concurrency: new AdaptiveConcurrency(4),
    });
    const calls = Array.from({ length: 40 }, (_, id) =>
      provider.generateBatch(request(1, { context: { ...request().context, batchNumber: id } })),
    );
    const results = await Promise.allSettled(calls);

    expect(scripted.started).toHaveLength(40);
    for (const start of scripted.started) expect(start.active).toBeLessThanOrEqual(start.limit);
    expect(Math.max(...scripted.started.map((s) => s.active))).toBeLessThanOrEqual(4);
    expect(scripted.started.map((s) => s.id)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(provider.concurrency.stats.decreases).toBeGreaterThanOrEqual(1);
    expect(provider.concurrency.stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(provider.concurrency.active).toBe(0);
    const failed = results.flatMap((r, id) => (r.status === 'rejected' ? [id] : []));
    expect(failed).toEqual([3, 10, 11]);
    for (const id of failed) expect(isThrottleError((results[id] as PromiseRejectedResult).reason)).toBe(true);
  });

  it('takes an estimate from the shared token bucket and settles it with the real usage', async () => {
    const keyPrefix = newPrefix();
    const redis = connection();
    const usage = { inputTokens: 700, outputTokens: 300 };
    const provider: RateLimitedProvider = new RateLimitedProvider(new ScriptedProvider((): AdaptiveConcurrency => provider.concurrency, new Set(), usage), {
      limiter: new SharedRateLimiter(redis, { keyPrefix, requestsPerMinute: 0, tokensPerMinute: 6, tokenBurst: 100_000 }),
      concurrency: new AdaptiveConcurrency(2),
    });
    const r = request(5);
    const estimate = estimateTokens(r);
    expect(estimate).toBe(Math.ceil((r.system.length + r.prompt.length) / 4) + 100 + 5 * 300);
    await provider.generateBatch(r);
    // The correction is not awaited by the call; wait for it to land. The refill (6 a minute) is negligible.
    let level = 0;
    for (let i = 0; i < 100 && Math.round(level) !== 100_000 - 1000; i++) {
      level = Number(await redis.hget(rateLimitKey(keyPrefix), 't'));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(Math.floor(level)).toBe(100_000 - 1000);
  });

  it('a retry-after on a 429 becomes a cooldown for every worker', async () => {
    const keyPrefix = newPrefix();
    const failing: LlmProvider = {
      name: 'always 429',
      isLlm: true,
      generateBatch: async () => {
        throw new RetryableLlmError('429', { kind: 'rate_limit', retryAfterMs: 250 });
      },
    };
    const provider = new RateLimitedProvider(failing, {
      limiter: new SharedRateLimiter(connection(), { keyPrefix, requestsPerMinute: 60_000, tokensPerMinute: 0 }),
      concurrency: new AdaptiveConcurrency(4),
    });
    const otherWorker = new SharedRateLimiter(connection(), { keyPrefix, requestsPerMinute: 60_000, tokensPerMinute: 0 });
    const before = await otherWorker.acquire(1);
    await expect(provider.generateBatch(request())).rejects.toMatchObject({ kind: 'rate_limit', retryAfterMs: 250 });
    expect(provider.concurrency.limit).toBe(2);
    // The cooldown is written without holding up the failed call; the other worker waits for it.
    let cooldown: string | null = null;
    for (let i = 0; i < 100 && cooldown === null; i++) {
      cooldown = await connection().hget(rateLimitKey(keyPrefix), 'cd');
      if (cooldown === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(Number(cooldown)).toBeGreaterThan(before.at);
    const after = await otherWorker.acquire(1);
    expect(after.waits).toBeGreaterThan(0);
    expect(after.at).toBeGreaterThanOrEqual(Number(cooldown));
  });

  it('passes an aborted call through without counting it either way', async () => {
    const provider = new RateLimitedProvider(
      { name: 'n', isLlm: true, generateBatch: () => new Promise(() => undefined) },
      {
        limiter: new SharedRateLimiter(null, { keyPrefix: 'unused', requestsPerMinute: 0, tokensPerMinute: 0 }),
        concurrency: new AdaptiveConcurrency(1),
      },
    );
    const hanging = provider.generateBatch(request()); // holds the only slot forever
    void hanging;
    await expect(provider.generateBatch(request(5, { signal: AbortSignal.abort() }))).rejects.toMatchObject({ name: 'AbortError' });
    const controller = new AbortController();
    const waiting = provider.generateBatch(request(5, { signal: controller.signal }));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(provider.concurrency.limit).toBe(1);
    expect(provider.concurrency.waiting).toBe(0);
    expect(provider.name).toBe('n');
  });
});

const fakeAnthropic = fakeServers<FakeAnthropicOptions, FakeAnthropic>(startFakeAnthropic);
const fakeOpenAI = fakeServers<FakeOpenAIOptions, FakeOpenAI>(startFakeOpenAI);

/** A real provider (SDK maxRetries 4) against its fake, whose first `failing` requests are answered 500 (all: Infinity). */
interface OverHttp {
  provider: LlmProvider;
  /** HTTP requests the fake server received so far. */
  requests(): number;
  abortError: new (...args: never[]) => Error;
}

const PROVIDERS_OVER_HTTP: Array<[string, (failing: number) => Promise<OverHttp>]> = [
  [
    'Anthropic',
    async (failing) => {
      const f = await fakeAnthropic({ faults: (i) => (i < failing ? 'server_error' : null), retryAfterMs: 10 });
      return {
        provider: new AnthropicProvider({ apiKey: 'test-key', baseURL: f.url, model: 'claude-test', maxRetries: 4, timeoutMs: 5000 }),
        requests: () => f.stats.calls,
        abortError: AnthropicAbortError,
      };
    },
  ],
  [
    'OpenAI-compatible',
    async (failing) => {
      // The fake sends retry-after-ms: 10 with every error, so the SDK retries fast.
      const f = await fakeOpenAI({
        respond: (_request, i) => (i < failing ? { type: 'error', status: 500, message: 'The server had an error.', errorType: 'server_error' } : undefined),
      });
      return {
        provider: new OpenAICompatibleProvider({ apiKey: 'test-key', baseURL: f.url, model: 'llama-test', maxRetries: 4, timeoutMs: 5000 }),
        requests: () => f.requests.length,
        abortError: OpenAIAbortError,
      };
    },
  ],
];

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe.each(PROVIDERS_OVER_HTTP)('RateLimitedProvider over HTTP: every attempt counts (%s, real SDK retries)', (_name, start) => {
  it('holds a server answering 500 to what the bucket allows, SDK retries included (burst + rate x elapsed)', async () => {
    const { provider: inner, requests, abortError } = await start(Infinity);
    const requestsPerMinute = 60; // one a second
    const burst = 3;
    const provider = new RateLimitedProvider(inner, {
      limiter: new SharedRateLimiter(connection(), { keyPrefix: newPrefix(), requestsPerMinute, tokensPerMinute: 0, requestBurst: burst }),
      concurrency: new AdaptiveConcurrency(2),
    });
    // Two callers call again and again (each call: up to 5 HTTP requests, the SDK retrying 4 times) until the run ends.
    const run = new AbortController();
    const started = Date.now();
    const timer = setTimeout(() => run.abort(), 3000);
    const errors: unknown[] = [];
    let calls = 0;
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        while (!run.signal.aborted) {
          calls++;
          await provider.generateBatch(batchRequest(3, { signal: run.signal })).catch((error: unknown) => errors.push(error));
        }
      }),
    );
    clearTimeout(timer);
    const elapsedMs = Date.now() - started;

    // The bucket is full at the first request, then refills at the rate: that is all that may reach the server.
    const allowance = burst + (requestsPerMinute / 60_000) * elapsedMs;
    expect(requests()).toBeLessThanOrEqual(Math.floor(allowance) + 1);
    expect(requests()).toBeGreaterThanOrEqual(burst);
    // Every call failed: its retries spent against the 500s, or cancelled at the end of the run (by the SDK, or while it waited for the limiter).
    expect(errors).toHaveLength(calls);
    for (const error of errors) {
      if (error instanceof RetryableLlmError) expect(error.kind).toBe('server');
      else if (!(error instanceof abortError)) expect(error).toMatchObject({ name: 'AbortError' });
    }
    expect(provider.concurrency.active).toBe(0);
  });

  it('charges a call the SDK retried once two requests and two token estimates, then settles the answer with its usage', async () => {
    const { provider: inner, requests } = await start(1);
    const keyPrefix = newPrefix();
    const redis = connection();
    // Refills so slow (1 a minute) that the levels read after the call are the burst minus what it took.
    const provider = new RateLimitedProvider(inner, {
      limiter: new SharedRateLimiter(redis, { keyPrefix, requestsPerMinute: 1, tokensPerMinute: 1, requestBurst: 10, tokenBurst: 1_000_000 }),
      concurrency: new AdaptiveConcurrency(2),
    });
    const request = batchRequest(3);
    const result = await provider.generateBatch(request);

    expect(requests()).toBe(2);
    const estimate = estimateTokens(request);
    const used = result.usage.inputTokens + result.usage.outputTokens;
    const expectedTokens = 1_000_000 - 2 * estimate + (estimate - used);
    // The correction is not awaited by the call; wait for it to land.
    await until(async () => Math.floor(Number(await redis.hget(rateLimitKey(keyPrefix), 't'))) === expectedTokens, 'the token correction');
    expect(Math.floor(Number(await redis.hget(rateLimitKey(keyPrefix), 'r')))).toBe(10 - 2);
  });

  it("stops waiting for a retry's turn when the signal fires: the retry never goes out", async () => {
    const { provider: inner, requests, abortError } = await start(Infinity);
    // One request, then a minute's wait for the next.
    const provider = new RateLimitedProvider(inner, {
      limiter: new SharedRateLimiter(connection(), { keyPrefix: newPrefix(), requestsPerMinute: 1, tokensPerMinute: 0, requestBurst: 1 }),
      concurrency: new AdaptiveConcurrency(2),
    });
    const controller = new AbortController();
    const call = failure(provider.generateBatch(batchRequest(3, { signal: controller.signal })));
    await until(() => requests() === 1, 'the first attempt');
    // Past the SDK's own pause before the retry (retry-after-ms: 10): the retry now waits for the bucket.
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();

    // The same error as a cancellation mid-request, and nothing more sent.
    expect(await call).toBeInstanceOf(abortError);
    expect(requests()).toBe(1);
    expect(provider.concurrency.active).toBe(0);
    expect(provider.concurrency.limit).toBe(2);
  });
});

it("counts the OpenAI-compatible provider's re-ask without tools as a second request", async () => {
  const f = await fakeOpenAI({ refuseTools: true });
  const keyPrefix = newPrefix();
  const redis = connection();
  const provider = new RateLimitedProvider(
    new OpenAICompatibleProvider({ apiKey: 'test-key', baseURL: f.url, model: 'llama-test', maxRetries: 4, timeoutMs: 5000 }),
    {
      limiter: new SharedRateLimiter(redis, { keyPrefix, requestsPerMinute: 1, tokensPerMinute: 0, requestBurst: 10 }),
      concurrency: new AdaptiveConcurrency(2),
    },
  );
  await provider.generateBatch(batchRequest(3));
  expect(f.requests).toHaveLength(2);
  expect(Math.floor(Number(await redis.hget(rateLimitKey(keyPrefix), 'r')))).toBe(10 - 2);
});

describe('retry-after and configuration', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('reads retry-after-ms first, then retry-after in seconds or as a date, capped', () => {
    expect(retryAfterMsOf(headers({ 'retry-after-ms': '250', 'retry-after': '3' }))).toBe(250);
    expect(retryAfterMsOf(headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMsOf(headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000)).toBe(6000);
    expect(retryAfterMsOf(headers({ 'retry-after': '86400' }))).toBe(5 * 60_000);
    expect(retryAfterMsOf(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMsOf(headers({}))).toBeUndefined();
    expect(retryAfterMsOf(undefined)).toBeUndefined();
  });

  it('keeps RetryableLlmError backwards compatible', () => {
    const plain = new RetryableLlmError('x', { cause: new Error('y') });
    expect(plain.kind).toBeUndefined();
    expect(plain.retryAfterMs).toBeUndefined();
    expect((plain.cause as Error).message).toBe('y');
    expect(plain.name).toBe('RetryableLlmError');
    expect(isThrottleError(plain)).toBe(false);
    expect(isThrottleError(new RetryableLlmError('x', { kind: 'overloaded' }))).toBe(true);
    expect(isThrottleError(new RetryableLlmError('x', { kind: 'server' }))).toBe(false);
  });

  it('reads the limits, unlimited and 16 calls at once by default', () => {
    expect(loadConfig({}).llmLimits).toEqual({ requestsPerMinute: 0, tokensPerMinute: 0, maxConcurrency: 16 });
    expect(
      loadConfig({ LLM_REQUESTS_PER_MINUTE: '50', LLM_TOKENS_PER_MINUTE: '40000', LLM_MAX_CONCURRENCY: '3' }).llmLimits,
    ).toEqual({ requestsPerMinute: 50, tokensPerMinute: 40_000, maxConcurrency: 3 });
  });

  it.each([
    [{ LLM_REQUESTS_PER_MINUTE: '-1' }, 'LLM_REQUESTS_PER_MINUTE'],
    [{ LLM_TOKENS_PER_MINUTE: 'lots' }, 'LLM_TOKENS_PER_MINUTE'],
    [{ LLM_MAX_CONCURRENCY: '0' }, 'LLM_MAX_CONCURRENCY'],
    [{ LLM_MAX_CONCURRENCY: '2.5' }, 'LLM_MAX_CONCURRENCY'],
  ])('stops with a message naming the variable for %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });
});
