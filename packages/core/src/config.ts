import { z } from 'zod';

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
    PORT: integer(0, 65535, 8080),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    API_KEYS: optionalText,
    LLM_PROVIDER: z.enum(['anthropic', 'offline']).optional(),
    ANTHROPIC_API_KEY: optionalText,
    ANTHROPIC_BASE_URL: z.string().url().optional(),
    ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-4-5'),
    ANTHROPIC_MAX_RETRIES: integer(0, 10, 4),
    ANTHROPIC_TIMEOUT_MS: integer(1000, 600_000, 120_000),
    WORKER_CONCURRENCY: integer(1, 256, 4),
    JOB_MAX_PARALLEL_BATCHES: integer(1, 64, 4),
    JOB_MAX_BARREN_BATCHES: integer(1, 1000, 10),
    JOB_MAX_FAILED_CALLS: integer(1, 1000, 8),
    WORKER_LOCK_DURATION_MS: integer(1000, 3_600_000, 30_000),
    WORKER_STALLED_INTERVAL_MS: integer(1000, 3_600_000, 30_000),
    WORKER_SHUTDOWN_GRACE_MS: integer(0, 60_000, 8_000),
    JOB_RETENTION_HOURS: z.coerce.number().positive().max(24 * 365).default(168),
    MAX_INPUTS_PER_JOB: integer(1, 1_000_000, 10_000),
    MAX_BODY_BYTES: integer(1024, 100 * 1024 * 1024, 1024 * 1024),
    ADMIN_USER: optionalText,
    ADMIN_PASSWORD: optionalText,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    QUEUE_NAME: z.string().regex(/^[A-Za-z0-9_-]+$/).default('data-generate'),
    KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('dg'),
  })
  .superRefine((env, ctx) => {
    if (env.LLM_PROVIDER === 'anthropic' && env.ANTHROPIC_API_KEY === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ANTHROPIC_API_KEY'], message: 'is required when LLM_PROVIDER=anthropic' });
    }
    if (env.NODE_ENV === 'production' && env.API_KEYS === undefined) {
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'must be set in production (comma-separated keys)' });
    }
    if ((env.ADMIN_USER === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'ADMIN_USER and ADMIN_PASSWORD go together' });
    }
  });

export interface Config {
  nodeEnv: string;
  port: number;
  redisUrl: string;
  /** Accepted API keys; `usingDevKey` when none were configured. */
  apiKeys: string[];
  usingDevKey: boolean;
  llm:
    | { provider: 'offline' }
    | { provider: 'anthropic'; apiKey: string; baseURL?: string; model: string; maxRetries: number; timeoutMs: number };
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    shutdownGraceMs: number;
  };
  job: {
    maxParallelBatches: number;
    maxBarrenBatches: number;
    maxFailedCalls: number;
    retentionHours: number;
    maxInputs: number;
  };
  maxBodyBytes: number;
  admin: { user: string; password: string } | null;
  logLevel: string;
  queueName: string;
  keyPrefix: string;
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
    port: e.PORT,
    redisUrl: e.REDIS_URL,
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
        : { provider },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    },
    job: {
      maxParallelBatches: e.JOB_MAX_PARALLEL_BATCHES,
      maxBarrenBatches: e.JOB_MAX_BARREN_BATCHES,
      maxFailedCalls: e.JOB_MAX_FAILED_CALLS,
      retentionHours: e.JOB_RETENTION_HOURS,
      maxInputs: e.MAX_INPUTS_PER_JOB,
    },
    maxBodyBytes: e.MAX_BODY_BYTES,
    admin: e.ADMIN_USER !== undefined && e.ADMIN_PASSWORD !== undefined ? { user: e.ADMIN_USER, password: e.ADMIN_PASSWORD } : null,
    logLevel: e.LOG_LEVEL,
    queueName: e.QUEUE_NAME,
    keyPrefix: e.KEY_PREFIX,
  };
}
