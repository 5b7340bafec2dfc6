import { z } from 'zod';
import type { Price } from './model/pricing';
import { tenantOf } from './model/tenant';

/**
 * Configuration, read once from the environment at startup. A bad value
 * stops the process with a message that names the variable.
 */

export const DEV_API_KEY = 'dev-key';

/**
 * The configuration's schema is its shape: each field says which variable it
 * reads (`envVar(NAME, schema)`: the name, then its type, default and bounds),
 * sections nest as the Config type does, and transforms build what several
 * variables make together (the LLM provider, the admin credentials, the
 * price). `Config` is what it outputs. Every variable is written here once.
 */
const envNames = z.registry<{ env: string }>();

/** A field read from the environment variable `name`. */
function envVar<S extends z.ZodType>(name: string, schema: S): S {
  envNames.add(schema as z.ZodType, { env: name });
  return schema;
}

const integer = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
/** Text that may be left out (loadConfig reads an empty variable as not set). */
const optionalText = () => z.string().trim().optional();

const booleanText = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const quotaOverrideSchema = z
  .object({
    maxOpenJobs: z.number().int().min(0).optional(),
    maxOpenInputs: z.number().int().min(0).optional(),
    submitsPerMinute: z.number().int().min(0).optional(),
  })
  .strict();

/** KEY_QUOTAS: a JSON object from API key to quota overrides. */
const keyQuotasSchema = z
  .string()
  .trim()
  .optional()
  .transform((text, ctx): Record<string, z.infer<typeof quotaOverrideSchema>> => {
    if (text === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON; e.g. {"team-a-key": {"maxOpenJobs": 5, "submitsPerMinute": 10}}' });
      return z.NEVER;
    }
    const checked = z.record(z.string().min(1), quotaOverrideSchema).safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(the object)'}: ${issue.message} (keys: maxOpenJobs, maxOpenInputs, submitsPerMinute, whole numbers)` });
      return z.NEVER;
    }
    return checked.data;
  });

/** One entry of LLM_PRICES (USD per million tokens). */
const priceEntrySchema = z
  .object({
    input: z.number().min(0),
    output: z.number().min(0),
    cache_write: z.number().min(0).optional(),
    cache_read: z.number().min(0).optional(),
    batch_discount: z.number().min(0).max(1).optional(),
  })
  .strict();

/** LLM_PRICES: a JSON object from model-name prefix to its price, added to (and winning over) the table of model/pricing.ts. */
const llmPricesSchema = z
  .string()
  .trim()
  .optional()
  .transform((text, ctx): Record<string, Price> => {
    if (text === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(ctx, [], 'is not JSON; e.g. {"my-model": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "batch_discount": 0.5}}');
    }
    const checked = z.record(z.string().min(1), priceEntrySchema).safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return fail(ctx, [], `${issue.path.join('.') || '(the object)'}: ${issue.message} (each model: {"input", "output"} and optionally "cache_write", "cache_read", "batch_discount"; USD per million tokens)`);
    }
    return Object.fromEntries(
      Object.entries(checked.data).map(([model, p]) => [
        model,
        {
          inputPerMTok: p.input,
          outputPerMTok: p.output,
          ...(p.cache_write !== undefined && { cacheWritePerMTok: p.cache_write }),
          ...(p.cache_read !== undefined && { cacheReadPerMTok: p.cache_read }),
          ...(p.batch_discount !== undefined && { batchDiscount: p.batch_discount }),
        },
      ]),
    );
  });

const llmSchema = z
  .object({
    provider: envVar('LLM_PROVIDER', z.enum(['anthropic', 'openai', 'offline']).optional()),
    anthropic: z.object({
      apiKey: envVar('ANTHROPIC_API_KEY', optionalText()),
      baseURL: envVar('ANTHROPIC_BASE_URL', z.string().url().optional()),
      model: envVar('ANTHROPIC_MODEL', z.string().min(1).default('claude-sonnet-5-5')),
      maxRetries: envVar('ANTHROPIC_MAX_RETRIES', integer(0, 10, 4)),
      timeoutMs: envVar('ANTHROPIC_TIMEOUT_MS', integer(1000, 600_000, 120_000)),
    }),
    /** An OpenAI-compatible chat-completions server; `apiKey` is optional for local servers. */
    openai: z.object({
      baseURL: envVar(
        'OPENAI_BASE_URL',
        z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://localhost:11434/v1' }).optional(),
      ),
      apiKey: envVar('OPENAI_API_KEY', optionalText()),
      model: envVar('OPENAI_MODEL', optionalText()),
      maxRetries: envVar('OPENAI_MAX_RETRIES', integer(0, 10, 4)),
      // Local models on a CPU can take minutes for one batch.
      timeoutMs: envVar('OPENAI_TIMEOUT_MS', integer(1000, 3_600_000, 300_000)),
      /** The server has OpenAI's Batch API (OpenAI does; Ollama, vLLM and LM Studio do not): economy mode may use it. */
      batchApi: envVar('OPENAI_BATCH_API', booleanText(false)),
    }),
  })
  // The provider's own settings only: Anthropic when LLM_PROVIDER is not set but its key is.
  .transform(({ provider: chosen, anthropic, openai }, ctx) => {
    const provider = chosen ?? (anthropic.apiKey !== undefined ? 'anthropic' : 'offline');
    if (provider === 'anthropic') {
      const { apiKey } = anthropic;
      if (apiKey === undefined) return fail(ctx, ['anthropic', 'apiKey'], 'is required when LLM_PROVIDER=anthropic');
      return { provider, ...anthropic, apiKey };
    }
    if (provider === 'openai') {
      const { baseURL, model } = openai;
      if (baseURL === undefined) {
        const hint = '(e.g. http://localhost:11434/v1 for Ollama, https://api.openai.com/v1 for OpenAI)';
        ctx.addIssue({ code: 'custom', path: ['openai', 'baseURL'], message: `is required when LLM_PROVIDER=openai ${hint}` });
      }
      if (model === undefined) {
        ctx.addIssue({ code: 'custom', path: ['openai', 'model'], message: 'is required when LLM_PROVIDER=openai (the model name the server knows)' });
      }
      if (baseURL === undefined || model === undefined) return z.NEVER;
      // batchApi only when set: a server without the Batch API (the usual case) has no such field.
      const { batchApi, ...settings } = openai;
      return { provider, ...settings, baseURL, model, ...(batchApi && { batchApi: true as const }) };
    }
    return { provider };
  });

/** A webhook target as a server default may name it: http(s), at most 2,000 characters (as in a request). */
const webhookTarget = () =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(2000, 'must be at most 2,000 characters');

const webhooksSchema = z
  .object({
    /** The default target of every job that names none. */
    url: envVar('WEBHOOK_URL', webhookTarget().optional()),
    /** Per-key targets, `{"<api key>": "<url>"}`, kept by tenant id (the hash of the key), never by key. */
    urlsByTenant: envVar(
      'WEBHOOK_URLS',
      z
        .string()
        .optional()
        .transform((text, ctx): Record<string, string> => {
          if (text === undefined) return {};
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return fail(ctx, [], 'must be a JSON object {"<api key>": "<url>", ...}');
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(ctx, [], 'must be a JSON object {"<api key>": "<url>", ...}');
          const byTenant: Record<string, string> = {};
          for (const [key, url] of Object.entries(parsed)) {
            const tenant = tenantOf(key);
            // The key itself is never repeated in a message: its tenant id names it.
            if (!webhookTarget().safeParse(url).success) return fail(ctx, [], `the URL of the key with tenant id ${tenant} must be an http:// or https:// URL of at most 2,000 characters`);
            byTenant[tenant] = url as string;
          }
          return byTenant;
        }),
    ),
    /** The signing secret, `whsec_` + base64 of 24 to 64 random bytes (Standard Webhooks). */
    secret: envVar(
      'WEBHOOK_SECRET',
      optionalText().refine((value) => value === undefined || isWebhookSecret(value), {
        message: 'must be whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)',
      }),
    ),
    /** Private, loopback and link-local targets too (a receiver on the same network); off by default (SSRF). */
    allowPrivate: envVar(
      'WEBHOOK_ALLOW_PRIVATE',
      z
        .enum(['true', 'false', '1', '0', 'yes', 'no'])
        .default('false')
        .transform((v) => v === 'true' || v === '1' || v === 'yes'),
    ),
    /** The shortest time between two progress events of one job (for jobs that ask for them). */
    progressIntervalMs: envVar('WEBHOOK_PROGRESS_INTERVAL_MS', integer(100, 3_600_000, 5_000)),
    /** Deliveries one worker process makes at once; 0: this process delivers none. */
    concurrency: envVar('WEBHOOK_CONCURRENCY', integer(0, 256, 8)),
    /** The first retry's delay; each next one doubles, for about a day (webhooks/queue.ts). */
    retryBaseMs: envVar('WEBHOOK_RETRY_BASE_MS', integer(10, 3_600_000, 10_000)),
  })
  .superRefine((w, ctx) => {
    if (w.secret === undefined && (w.url !== undefined || Object.keys(w.urlsByTenant).length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'is required when WEBHOOK_URL or WEBHOOK_URLS is set (webhooks are signed with it)' });
    }
  });

/** `whsec_` and the base64 of 24 to 64 bytes, as the Standard Webhooks spec has it. */
function isWebhookSecret(value: string): boolean {
  if (!value.startsWith('whsec_')) return false;
  const b64 = value.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length >= 24 && bytes.length <= 64;
}

const configSchema = z
  .object({
    nodeEnv: envVar('NODE_ENV', z.string().default('development')),
    /** Address the API listens on. */
    host: envVar('HOST', z.string().min(1).default('0.0.0.0')),
    port: envVar('PORT', integer(0, 65535, 8080)),
    /** `REDIS_URL` as given: one URL, or in cluster mode comma-separated seed nodes (`redisNodes`). */
    redisUrl: envVar(
      'REDIS_URL',
      z
        .string()
        .trim()
        .default('redis://127.0.0.1:6379')
        .superRefine((value, ctx) => {
          const nodes = splitList(value);
          const bad = nodes.find((url) => !isRedisUrl(url));
          if (nodes.length === 0 || bad !== undefined) ctx.addIssue({ code: 'custom', message: `not a redis:// or rediss:// URL: '${bad ?? value}'` });
        }),
    ),
    redisMode: envVar('REDIS_MODE', z.enum(['standalone', 'cluster']).default('standalone')),
    /** Accepted API keys; `usingDevKey` when none were configured. */
    apiKeys: envVar('API_KEYS', optionalText().transform(splitList)),
    llm: llmSchema,
    worker: z.object({
      concurrency: envVar('WORKER_CONCURRENCY', integer(1, 256, 4)),
      lockDurationMs: envVar('WORKER_LOCK_DURATION_MS', integer(1000, 3_600_000, 30_000)),
      stalledIntervalMs: envVar('WORKER_STALLED_INTERVAL_MS', integer(1000, 3_600_000, 30_000)),
      /**
       * A job that loses its worker (a crash, a kill, a lock not renewed) is
       * resumed elsewhere; one that loses this many in a row without storing a
       * new input ends ERROR instead of taking down worker after worker.
       */
      maxStallsWithoutProgress: envVar('WORKER_MAX_STALLS', integer(1, 1000, 5)),
      shutdownGraceMs: envVar('WORKER_SHUTDOWN_GRACE_MS', integer(0, 60_000, 8_000)),
      /**
       * How far V8 lets a worker's heap grow past what survived its last full
       * collection before the next one, in percent (0: V8's own choice, up to
       * 300 on a host with a lot of memory). See apps/worker/src/main.ts.
       */
      heapGrowthPercent: envVar('WORKER_HEAP_GROWTH_PERCENT', integer(0, 300, 50)),
    }),
    job: z.object({
      maxParallelBatches: envVar('JOB_MAX_PARALLEL_BATCHES', integer(1, 64, 4)),
      maxBarrenBatches: envVar('JOB_MAX_BARREN_BATCHES', integer(1, 1000, 10)),
      maxFailedCalls: envVar('JOB_MAX_FAILED_CALLS', integer(1, 1000, 8)),
      retentionHours: envVar('JOB_RETENTION_HOURS', z.coerce.number().positive().max(24 * 365).default(168)),
      maxInputs: envVar('MAX_INPUTS_PER_JOB', integer(1, 1_000_000, 10_000)),
      /** The most inputs one dataset may hold (each worker of one of its jobs holds them all in its dedup index); 0: no limit. */
      datasetMaxItems: envVar('DATASET_MAX_ITEMS', integer(0, 10_000_000, 100_000)),
      /** Judge each batch with an LLM critic. */
      critic: envVar('CRITIC_ENABLED', booleanText(true)),
    }),
    /** Economy mode: jobs sent through the provider's batch API (half price), in rounds (README "Economy mode"). */
    economy: z.object({
      /** Whether a job that does not say (`economy` absent) runs in economy mode. */
      byDefault: envVar('ECONOMY_DEFAULT', booleanText(false)),
      /** The first wait before a round's provider batch is polled; each next poll waits 1.5 x longer. */
      pollMinMs: envVar('ECONOMY_POLL_MIN_MS', integer(50, 3_600_000, 30_000)),
      /** The longest wait between two polls. */
      pollMaxMs: envVar('ECONOMY_POLL_MAX_MS', integer(50, 3_600_000, 600_000)),
      /** Rounds in a row that end with no request answered (expired, errored) before the job gives up. */
      maxFailedRounds: envVar('ECONOMY_MAX_FAILED_ROUNDS', integer(1, 100, 3)),
      /** Requests a round plans past those it expects to need, as a share of them (each one past N is paid for). */
      overshoot: envVar('ECONOMY_OVERSHOOT', z.coerce.number().min(0).max(1).default(0.05)),
    }),
    /** The LLM provider's limits, held across all workers together (llm/rateLimit.ts); 0 means unlimited. */
    llmLimits: z.object({
      requestsPerMinute: envVar('LLM_REQUESTS_PER_MINUTE', integer(0, 1_000_000, 0)),
      tokensPerMinute: envVar('LLM_TOKENS_PER_MINUTE', integer(0, 1_000_000_000, 0)),
      /** LLM calls in flight per worker process, across all its jobs; lowered for a while after 429s. */
      maxConcurrency: envVar('LLM_MAX_CONCURRENCY', integer(1, 1024, 16)),
    }),
    /** How API keys share the service (docs/reliability.md, "Fair share between API keys"). */
    tenancy: z.object({
      /** fair: keys take turns in the queue; fifo: first in, first out. */
      scheduling: envVar('SCHEDULING', z.enum(['fair', 'fifo']).default('fair')),
      /** Every key's quotas, unless KEY_QUOTAS says otherwise for it; 0 is no limit. */
      quota: z.object({
        maxOpenJobs: envVar('QUOTA_MAX_OPEN_JOBS', integer(0, 10_000_000, 1_000)),
        maxOpenInputs: envVar('QUOTA_MAX_OPEN_INPUTS', integer(0, 1_000_000_000, 1_000_000)),
        submitsPerMinute: envVar('QUOTA_SUBMITS_PER_MINUTE', integer(0, 10_000_000, 600)),
      }),
      /** Per key: `{"<api key>": {"maxOpenJobs": 5, "maxOpenInputs": 1000, "submitsPerMinute": 10}}`, any of the three. */
      keyQuotas: envVar('KEY_QUOTAS', keyQuotasSchema),
      /** Hold each key to its share of the LLM request budget while other keys are active too. */
      llmFairShare: envVar('LLM_FAIR_SHARE', booleanText(true)),
    }),
    maxBodyBytes: envVar('MAX_BODY_BYTES', integer(1024, 100 * 1024 * 1024, 1024 * 1024)),
    admin: z
      .object({ user: envVar('ADMIN_USER', optionalText()), password: envVar('ADMIN_PASSWORD', optionalText()) })
      .transform(({ user, password }, ctx): { user: string; password: string } | null => {
        if (user === undefined && password === undefined) return null;
        if (user === undefined || password === undefined) return fail(ctx, ['password'], 'ADMIN_USER and ADMIN_PASSWORD go together');
        return { user, password };
      }),
    /** A pino level name (typed as any string, as Config has always said). */
    logLevel: envVar(
      'LOG_LEVEL',
      z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .transform((level): string => level),
    ),
    /** Port of a worker's /metrics endpoint; 0 turns it off. */
    metricsPort: envVar('METRICS_PORT', integer(0, 65535, 9464)),
    /** Overrides the price table of llm/pricing.ts for cost estimates (USD per million tokens). */
    llmPrice: z
      .object({
        inputPerMTok: envVar('LLM_PRICE_INPUT_PER_MTOK', z.coerce.number().min(0).optional()),
        outputPerMTok: envVar('LLM_PRICE_OUTPUT_PER_MTOK', z.coerce.number().min(0).optional()),
      })
      .transform(({ inputPerMTok, outputPerMTok }, ctx): Price | null => {
        if (inputPerMTok === undefined && outputPerMTok === undefined) return null;
        if (inputPerMTok === undefined || outputPerMTok === undefined) {
          return fail(ctx, ['outputPerMTok'], 'LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK go together');
        }
        return { inputPerMTok, outputPerMTok };
      }),
    /** Prices by model-name prefix, added to the table of model/pricing.ts. */
    llmPrices: envVar('LLM_PRICES', llmPricesSchema),
    /** Signed webhooks (webhooks/ in core; README "Webhooks"). */
    webhooks: webhooksSchema,
    queueName: envVar('QUEUE_NAME', z.string().regex(/^[A-Za-z0-9_-]+$/).default('data-generate')),
    keyPrefix: envVar('KEY_PREFIX', z.string().regex(/^[A-Za-z0-9_-]+$/).default('dg')),
  })
  .superRefine((config, ctx) => {
    if (config.redisMode === 'standalone' && splitList(config.redisUrl).length > 1) {
      ctx.addIssue({ code: 'custom', path: ['redisUrl'], message: 'lists several nodes, which only REDIS_MODE=cluster accepts' });
    }
    const hasBatchApi = config.llm.provider === 'anthropic' || (config.llm.provider === 'openai' && config.llm.batchApi === true);
    if (config.economy.byDefault && !hasBatchApi) {
      ctx.addIssue({
        code: 'custom',
        path: ['economy', 'byDefault'],
        message: `needs a provider with a batch API (LLM_PROVIDER=anthropic, or openai with OPENAI_BATCH_API=true); ${config.llm.provider} has none`,
      });
    }
    if (config.economy.pollMaxMs < config.economy.pollMinMs) {
      ctx.addIssue({ code: 'custom', path: ['economy', 'pollMaxMs'], message: 'must be at least ECONOMY_POLL_MIN_MS' });
    }
    if (config.nodeEnv === 'production' && config.apiKeys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['apiKeys'], message: 'must be set in production (comma-separated keys)' });
    }
  })
  .transform(({ apiKeys, ...config }) => ({
    ...config,
    /** One URL in standalone mode; in cluster mode the seed nodes (the client discovers the rest). */
    redisNodes: splitList(config.redisUrl),
    apiKeys: apiKeys.length > 0 ? apiKeys : [DEV_API_KEY],
    usingDevKey: apiKeys.length === 0,
  }));

export type Config = z.output<typeof configSchema>;

export type RedisMode = Config['redisMode'];

/** Where Redis is: one server, or the seed nodes of a Redis Cluster (`connect()` in queue.ts). */
export type RedisTarget = Pick<Config, 'redisMode' | 'redisNodes'>;

/** Reports a missing or conflicting variable at `path` (a field of the schema at hand); the field's value is then never used. */
function fail(ctx: z.RefinementCtx, path: string[], message: string): never {
  ctx.addIssue({ code: 'custom', path, message });
  return z.NEVER;
}

/** Each field's path in the schema (`worker.concurrency`) with the variable it reads. */
const variables: Array<{ path: string[]; env: string }> = [];
(function collect(schema: z.ZodType, path: string[]): void {
  const meta = envNames.get(schema);
  if (meta !== undefined) {
    variables.push({ path, env: meta.env });
    return;
  }
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodPipe) inner = inner.in as z.ZodType;
  if (!(inner instanceof z.ZodObject)) throw new Error(`config schema: ${path.join('.')} reads no environment variable`);
  for (const [key, field] of Object.entries(inner.shape)) collect(field as z.ZodType, [...path, key]);
})(configSchema, []);
const variableAt = new Map(variables.map(({ path, env }) => [path.join('.'), env]));

/** A comma-separated list (API keys, Redis nodes), without blanks. */
function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set" (compose passes `${VAR:-}` as an empty string).
  const input: Record<string, unknown> = {};
  for (const { path, env: name } of variables) {
    const value = env[name];
    setAt(input, path, value === undefined || value.trim() === '' ? undefined : value);
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.map(String).join('.');
      return `${variableAt.get(where) ?? (where || '(environment)')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}
