import { z } from 'zod';
import type { Price } from './model/pricing';

/**
 * Configuration, read once from the environment at startup. A bad value
 * stops the process with a message that names the variable.
 */

export const DEV_API_KEY = 'dev-key';

const integer = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const envSchema = z
  .object({
    NODE_ENV: z.string().default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: integer(0, 65535, 8080),
    REDIS_URL: z.string().trim().default('redis://127.0.0.1:6379'),
    REDIS_MODE: z.enum(['standalone', 'cluster']).default('standalone'),
    API_KEYS: optionalText,
    LLM_PROVIDER: z.enum(['anthropic', 'openai', 'offline']).optional(),
    ANTHROPIC_API_KEY: optionalText,
    ANTHROPIC_BASE_URL: z.string().url().optional(),
    ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
    ANTHROPIC_MAX_RETRIES: integer(0, 10, 4),
    ANTHROPIC_TIMEOUT_MS: integer(1000, 600_000, 120_000),
    OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://localhost:11434/v1' }).optional(),
    OPENAI_API_KEY: optionalText,
    OPENAI_MODEL: optionalText,
    OPENAI_MAX_RETRIES: integer(0, 10, 4),
    // Local models on a CPU can take minutes for one batch.
    OPENAI_TIMEOUT_MS: integer(1000, 3_600_000, 300_000),
    WORKER_CONCURRENCY: integer(1, 256, 4),
    JOB_MAX_PARALLEL_BATCHES: integer(1, 64, 4),
    JOB_MAX_BARREN_BATCHES: integer(1, 1000, 10),
    JOB_MAX_FAILED_CALLS: integer(1, 1000, 8),
    LLM_REQUESTS_PER_MINUTE: integer(0, 1_000_000, 0),
    LLM_TOKENS_PER_MINUTE: integer(0, 1_000_000_000, 0),
    LLM_MAX_CONCURRENCY: integer(1, 1024, 16),
    WORKER_LOCK_DURATION_MS: integer(1000, 3_600_000, 30_000),
    WORKER_STALLED_INTERVAL_MS: integer(1000, 3_600_000, 30_000),
    WORKER_SHUTDOWN_GRACE_MS: integer(0, 60_000, 8_000),
    WORKER_HEAP_GROWTH_PERCENT: integer(0, 300, 50),
    JOB_RETENTION_HOURS: z.coerce.number().positive().max(24 * 365).default(168),
    MAX_INPUTS_PER_JOB: integer(1, 1_000_000, 10_000),
    MAX_BODY_BYTES: integer(1024, 100 * 1024 * 1024, 1024 * 1024),
    ADMIN_USER: optionalText,
    ADMIN_PASSWORD: optionalText,
    CRITIC_ENABLED: z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default('true')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
    METRICS_PORT: integer(0, 65535, 9464),
    LLM_PRICE_INPUT_PER_MTOK: z.coerce.number().min(0).optional(),
    LLM_PRICE_OUTPUT_PER_MTOK: z.coerce.number().min(0).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_-]+$/).default('data-generate'),
    KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('dg'),
  })
  .superRefine((env, ctx) => {
    const nodes = splitRedisUrls(env.REDIS_URL);
    const bad = nodes.find((url) => !isRedisUrl(url));
    if (nodes.length === 0 || bad !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: `not a redis:// or rediss:// URL: '${bad ?? env.REDIS_URL}'` });
    } else if (env.REDIS_MODE === 'standalone' && nodes.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'lists several nodes, which only REDIS_MODE=cluster accepts' });
    }
    if (env.LLM_PROVIDER === 'anthropic' && env.ANTHROPIC_API_KEY === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ANTHROPIC_API_KEY'], message: 'is required when LLM_PROVIDER=anthropic' });
    }
    if (env.LLM_PROVIDER === 'openai' && env.OPENAI_BASE_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_BASE_URL'],
        message: 'is required when LLM_PROVIDER=openai (e.g. http://localhost:11434/v1 for Ollama, https://api.openai.com/v1 for OpenAI)',
      });
    }
    if (env.LLM_PROVIDER === 'openai' && env.OPENAI_MODEL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['OPENAI_MODEL'], message: 'is required when LLM_PROVIDER=openai (the model name the server knows)' });
    }
    if (env.NODE_ENV === 'production' && env.API_KEYS === undefined) {
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'must be set in production (comma-separated keys)' });
    }
    if ((env.LLM_PRICE_INPUT_PER_MTOK === undefined) !== (env.LLM_PRICE_OUTPUT_PER_MTOK === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['LLM_PRICE_OUTPUT_PER_MTOK'], message: 'LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK go together' });
    }
    if ((env.ADMIN_USER === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'ADMIN_USER and ADMIN_PASSWORD go together' });
    }
  });

export type RedisMode = 'standalone' | 'cluster';

/** Where Redis is: one server, or the seed nodes of a Redis Cluster (`connect()` in queue.ts). */
export interface RedisTarget {
  redisMode: RedisMode;
  /** One URL in standalone mode; in cluster mode the seed nodes (the client discovers the rest). */
  redisNodes: string[];
}

export interface Config extends RedisTarget {
  nodeEnv: string;
  /** Address the API listens on. */
  host: string;
  port: number;
  /** `REDIS_URL` as given: one URL, or in cluster mode comma-separated seed nodes. */
  redisUrl: string;
  /** Accepted API keys; `usingDevKey` when none were configured. */
  apiKeys: string[];
  usingDevKey: boolean;
  llm:
    | { provider: 'offline' }
    | { provider: 'anthropic'; apiKey: string; baseURL?: string; model: string; maxRetries: number; timeoutMs: number }
    /** An OpenAI-compatible chat-completions server; `apiKey` is optional for local servers. */
    | { provider: 'openai'; baseURL: string; apiKey?: string; model: string; maxRetries: number; timeoutMs: number };
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    shutdownGraceMs: number;
    /**
     * How far V8 lets a worker's heap grow past what survived its last full
     * collection before the next one, in percent (0: V8's own choice, up to
     * 300 on a host with a lot of memory). See apps/worker/src/main.ts.
     */
    heapGrowthPercent: number;
  };
  job: {
    maxParallelBatches: number;
    maxBarrenBatches: number;
    maxFailedCalls: number;
    retentionHours: number;
    maxInputs: number;
    /** Judge each batch with an LLM critic (CRITIC_ENABLED). */
    critic: boolean;
  };
  /** The LLM provider's limits, held across all workers together (llm/rateLimit.ts); 0 means unlimited. */
  llmLimits: {
    requestsPerMinute: number;
    tokensPerMinute: number;
    /** LLM calls in flight per worker process, across all its jobs; lowered for a while after 429s. */
    maxConcurrency: number;
  };
  maxBodyBytes: number;
  admin: { user: string; password: string } | null;
  logLevel: string;
  /** Port of a worker's /metrics endpoint; 0 turns it off. */
  metricsPort: number;
  /** Overrides the price table of llm/pricing.ts for cost estimates (USD per million tokens). */
  llmPrice: Price | null;
  queueName: string;
  keyPrefix: string;
}

function splitRedisUrls(value: string): string[] {
  return value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
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
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const apiKeys = (e.API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const provider = e.LLM_PROVIDER ?? (e.ANTHROPIC_API_KEY !== undefined ? 'anthropic' : 'offline');
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisMode: e.REDIS_MODE,
    redisNodes: splitRedisUrls(e.REDIS_URL),
    apiKeys: apiKeys.length > 0 ? apiKeys : [DEV_API_KEY],
    usingDevKey: apiKeys.length === 0,
    llm:
      provider === 'anthropic'
        ? {
            provider,
            apiKey: e.ANTHROPIC_API_KEY!,
            baseURL: e.ANTHROPIC_BASE_URL,
            model: e.ANTHROPIC_MODEL,
            maxRetries: e.ANTHROPIC_MAX_RETRIES,
            timeoutMs: e.ANTHROPIC_TIMEOUT_MS,
          }
        : provider === 'openai'
          ? {
              provider,
              baseURL: e.OPENAI_BASE_URL!,
              apiKey: e.OPENAI_API_KEY,
              model: e.OPENAI_MODEL!,
              maxRetries: e.OPENAI_MAX_RETRIES,
              timeoutMs: e.OPENAI_TIMEOUT_MS,
            }
          : { provider },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      heapGrowthPercent: e.WORKER_HEAP_GROWTH_PERCENT,
    },
    job: {
      maxParallelBatches: e.JOB_MAX_PARALLEL_BATCHES,
      maxBarrenBatches: e.JOB_MAX_BARREN_BATCHES,
      maxFailedCalls: e.JOB_MAX_FAILED_CALLS,
      retentionHours: e.JOB_RETENTION_HOURS,
      maxInputs: e.MAX_INPUTS_PER_JOB,
      critic: e.CRITIC_ENABLED,
    },
    llmLimits: {
      requestsPerMinute: e.LLM_REQUESTS_PER_MINUTE,
      tokensPerMinute: e.LLM_TOKENS_PER_MINUTE,
      maxConcurrency: e.LLM_MAX_CONCURRENCY,
    },
    maxBodyBytes: e.MAX_BODY_BYTES,
    admin: e.ADMIN_USER !== undefined && e.ADMIN_PASSWORD !== undefined ? { user: e.ADMIN_USER, password: e.ADMIN_PASSWORD } : null,
    logLevel: e.LOG_LEVEL,
    metricsPort: e.METRICS_PORT,
    llmPrice:
      e.LLM_PRICE_INPUT_PER_MTOK !== undefined && e.LLM_PRICE_OUTPUT_PER_MTOK !== undefined
        ? { inputPerMTok: e.LLM_PRICE_INPUT_PER_MTOK, outputPerMTok: e.LLM_PRICE_OUTPUT_PER_MTOK }
        : null,
    queueName: e.QUEUE_NAME,
    keyPrefix: e.KEY_PREFIX,
  };
}
