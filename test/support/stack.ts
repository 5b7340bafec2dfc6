import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import {
  connect,
  deleteNamespace,
  loadConfig,
  TERMINAL_STATES,
  type Config,
  type JobState,
  type JobStore,
  type JobSummary,
  type LlmProvider,
  type RedisClient,
  type TerminalState,
} from '@datagen/core';
import { startApiServer, type ApiServer } from '../../apps/api/src/server';
import { startGenerationWorker, type GenerationWorker } from '../../apps/worker/src/worker';

/**
 * A whole service for one test: the API on a free port and, when a provider
 * is given, a worker, both on the real Redis under a namespace of their own
 * (queue name and key prefix), which stop() deletes.
 *
 * `REDIS_MODE=cluster` in the environment runs the same tests on a Redis
 * Cluster whose seed node(s) `REDIS_URL` names (`npm run test:cluster`).
 */
export interface TestStack {
  url: string;
  config: Config;
  api: ApiServer;
  workers: GenerationWorker[];
  /** A plain client for the test's own reads and writes (a cluster client in cluster mode). */
  redis: RedisClient;
  startWorker(provider: LlmProvider): Promise<GenerationWorker>;
  stop(): Promise<void>;
}

export { deleteNamespace, scanKeys } from '@datagen/core';

export const KEY_A = 'test-key-a';
export const KEY_B = 'test-key-b';

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the jest global setup sets it)');
  return url;
}

/** `REDIS_MODE` of this test run: `cluster` runs the suites on a Redis Cluster. */
export function redisMode(): 'standalone' | 'cluster' {
  const mode = process.env.REDIS_MODE?.trim() || 'standalone';
  if (mode !== 'standalone' && mode !== 'cluster') throw new Error(`REDIS_MODE must be standalone or cluster, not '${mode}'`);
  return mode;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const ns = `t${randomBytes(5).toString('hex')}`;
  return loadConfig({
    REDIS_URL: redisUrl(),
    // A test that brings its own Redis (REDIS_URL) brings a single server unless it says otherwise.
    REDIS_MODE: env.REDIS_URL !== undefined ? 'standalone' : redisMode(),
    HOST: '127.0.0.1',
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
  const redis = testRedis(config);
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
      await Promise.all(workers.map((w) => w.close(10_000)));
      await api.close();
      await deleteNamespace(redis, config.keyPrefix);
      redis.disconnect();
    },
  };
  if (options.provider) await stack.startWorker(options.provider);
  return stack;
}

/** A client for the test's own use, on the Redis (or cluster) the config names. */
export function testRedis(config: Config): RedisClient {
  return connect(config, { maxRetriesPerRequest: 3 });
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

/** POSTs a job as KEY_A and answers its id; throws if the API does not take it. */
export async function submitJob(stack: Pick<TestStack, 'url'>, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`POST /v1/data/generate answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { job_id: string }).job_id;
}

/** Reads a job's status through the API (as KEY_A) until the job has ended; answers that status. */
export function waitForJobEnd(stack: Pick<TestStack, 'url'>, jobId: string, timeoutMs = 25_000): Promise<any> {
  return waitFor(
    async () => {
      const res = await fetch(`${stack.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': KEY_A } });
      const status = (await res.json()) as { state: JobState };
      return TERMINAL_STATES.has(status.state) ? status : null;
    },
    timeoutMs,
    `job ${jobId} to end`,
  );
}

/** A job as the store holds it now (state, inputs, messages), for tests that look behind the API. */
export async function storedJob(store: JobStore, jobId: string): Promise<{ state: TerminalState | null; data: string[]; messages: string[]; job: JobSummary } | null> {
  const read = await store.read(jobId, { items: { from: 0 }, messages: { after: 0 } });
  if (read === null) return null;
  return { state: read.job.state, data: read.items, messages: read.messages.map((m) => m.text), job: read.job };
}
