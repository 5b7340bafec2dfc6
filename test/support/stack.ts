import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { loadConfig, type Config, type LlmProvider } from '@datagen/core';
import { startApiServer, type ApiServer } from '../../apps/api/src/server';
import { startGenerationWorker, type GenerationWorker } from '../../apps/worker/src/worker';

/**
 * A whole service for one test: the API on a free port and, when a provider
 * is given, a worker, both on the real Redis under a namespace of their own
 * (queue name and key prefix), which stop() deletes.
 */
export interface TestStack {
  url: string;
  config: Config;
  api: ApiServer;
  workers: GenerationWorker[];
  redis: Redis;
  startWorker(provider: LlmProvider): Promise<GenerationWorker>;
  stop(): Promise<void>;
}

export const KEY_A = 'test-key-a';
export const KEY_B = 'test-key-b';

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the jest global setup sets it)');
  return url;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const ns = `t${randomBytes(5).toString('hex')}`;
  return loadConfig({
    REDIS_URL: redisUrl(),
    PORT: '0',
    API_KEYS: `${KEY_A},${KEY_B}`,
    QUEUE_NAME: ns,
    KEY_PREFIX: ns,
    LOG_LEVEL: 'silent',
    WORKER_STALLED_INTERVAL_MS: '5000',
    ...env,
  });
}

export async function startStack(options: { provider?: LlmProvider; env?: Record<string, string> } = {}): Promise<TestStack> {
  const config = testConfig(options.env);
  const logger = pino({ level: 'silent' });
  const api = await startApiServer(config, logger);
  const redis = new Redis(config.redisUrl);
  const workers: GenerationWorker[] = [];
  const stack: TestStack = {
    url: api.url,
    config,
    api,
    workers,
    redis,
    async startWorker(provider) {
      const worker = await startGenerationWorker(config, provider, logger);
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.close(0)));
      await api.close();
      await deleteNamespace(redis, config.keyPrefix);
      redis.disconnect();
    },
  };
  if (options.provider) await stack.startWorker(options.provider);
  return stack;
}

export async function deleteNamespace(redis: Redis, keyPrefix: string): Promise<void> {
  for (const pattern of [`${keyPrefix}:*`, `{${keyPrefix}-queue}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}

/** Polls until `check` answers a value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
