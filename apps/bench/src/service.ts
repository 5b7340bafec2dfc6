import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createLogger, createProvider, jobKeys, loadConfig, type Config, type RedisClient } from '@datagen/core';
import { startApiServer, type ApiServer } from '@datagen/api/dist/server';
import { startGenerationWorker, type GenerationWorker } from '@datagen/worker/dist/worker';
import { benchRedis, collect, deleteNamespace, namespace, stopChild, track } from './env';
import { FAKE_LLM_KEY, type FakeLlm } from './fakeLlmServer';

/**
 * The service as the benchmarks run it: the API and (in-process or as child
 * processes) workers, in one namespace of their own on the bench's Redis,
 * talking to the fake LLM over HTTP through the real Anthropic SDK.
 */

export const BENCH_API_KEY = 'bench-key';

export const APPLICATION = 'A helpful general-purpose assistant that drafts, plans and explains everyday things for its users.';
export const SEEDS = [
  'Can you draft an email to my landlord about the broken heating in the flat?',
  'Please plan a three-day trip to Lisbon for two on a modest budget.',
  'Explain how compound interest works to a teenager with a simple example.',
  'Write a short toast for my sister’s wedding that is funny but kind.',
  'Suggest five names for a neighbourhood book club that meets in a pub.',
];

/** The environment of one service instance (API, in-process workers and worker processes alike). */
export function serviceEnv(redisUrl: string, ns: string, llm: FakeLlm, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    QUEUE_NAME: ns,
    KEY_PREFIX: ns,
    PORT: '0',
    API_KEYS: BENCH_API_KEY,
    LOG_LEVEL: 'silent',
    METRICS_PORT: '0',
    LLM_PROVIDER: 'anthropic',
    ANTHROPIC_API_KEY: FAKE_LLM_KEY,
    ANTHROPIC_BASE_URL: llm.url,
    ANTHROPIC_MAX_RETRIES: '0',
    MAX_INPUTS_PER_JOB: '100000',
    // What the service adds on top of the LLM is measured with the critic off (a critic doubles the calls); time-to-N also runs with it on.
    CRITIC_ENABLED: 'false',
    // One bench key submits thousands of jobs a second: its quotas are off (the fair-share section sets its own).
    QUOTA_MAX_OPEN_JOBS: '0',
    QUOTA_MAX_OPEN_INPUTS: '0',
    QUOTA_SUBMITS_PER_MINUTE: '0',
    ...extra,
  };
}

export interface Service {
  ns: string;
  config: Config;
  env: Record<string, string>;
  api: ApiServer;
  url: string;
  redis: RedisClient;
  workers: GenerationWorker[];
  processes: WorkerProcess[];
  startWorker(): Promise<GenerationWorker>;
  spawnWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  submit(request: Partial<JobSpec>): Promise<string>;
  waitForEnd(jobIds: string[], timeoutMs: number): Promise<Map<string, string>>;
  /** Stops everything it started and deletes the namespace's keys. */
  close(): Promise<void>;
}

export interface JobSpec {
  num_inputs_to_generate: number;
  batch_size: number;
  num_shots: number;
  exploration_mode: string;
  seeds: string[];
  application_description: string;
  /** Economy mode: through the provider's batch API. */
  economy?: boolean;
}

export async function startService(label: string, redisUrl: string, llm: FakeLlm, extra: Record<string, string> = {}): Promise<Service> {
  const ns = namespace(label);
  const env = serviceEnv(redisUrl, ns, llm, extra);
  const config = loadConfig(env);
  const logger = createLogger('bench', 'silent');
  // Loopback only: the bench serves nothing to the network.
  const api = await startApiServer(config, logger, '127.0.0.1');
  const redis = benchRedis(redisUrl);
  const workers: GenerationWorker[] = [];
  const processes: WorkerProcess[] = [];
  const service: Service = {
    ns,
    config,
    env,
    api,
    url: api.url,
    redis,
    workers,
    processes,
    async startWorker() {
      const worker = await startGenerationWorker(config, createProvider(config.llm), logger);
      workers.push(worker);
      return worker;
    },
    async spawnWorker(extraEnv = {}) {
      const child = await spawnWorkerProcess({ ...env, ...extraEnv });
      processes.push(child);
      return child;
    },
    async submit(request) {
      const body: JobSpec = {
        application_description: APPLICATION,
        seeds: SEEDS,
        num_inputs_to_generate: 100,
        batch_size: 10,
        num_shots: 5,
        exploration_mode: 'BALANCED',
        ...request,
      };
      const response = await fetch(`${api.url}/v1/data/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`POST /v1/data/generate answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { job_id: string }).job_id;
    },
    waitForEnd: (jobIds, timeoutMs) => waitForEnd(redis, ns, jobIds, timeoutMs),
    async close() {
      await Promise.all(workers.map((w) => w.close(10_000)));
      await Promise.all(processes.map((p) => p.stop()));
      await api.close();
      await deleteNamespace(redis, ns);
      redis.disconnect();
    },
  };
  return service;
}

/**
 * Polls the jobs' terminal state (one pipelined HGET per job, every 10 ms)
 * until all have ended; answers each job's state. Throws after `timeoutMs`.
 */
export async function waitForEnd(redis: RedisClient, ns: string, jobIds: string[], timeoutMs: number): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  const ended = new Map<string, string>();
  while (ended.size < jobIds.length) {
    const pending = jobIds.filter((id) => !ended.has(id));
    const results = await pending.reduce((pipeline, id) => pipeline.hget(jobKeys(ns, id).meta, 'state'), redis.pipeline()).exec();
    results?.forEach(([, state], i) => {
      if (typeof state === 'string') ended.set(pending[i]!, state);
    });
    if (ended.size === jobIds.length) break;
    if (Date.now() > deadline) throw new Error(`${jobIds.length - ended.size} of ${jobIds.length} jobs had not ended after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return ended;
}

// ---------------------------------------------------------------------------
// Worker processes (`node apps/worker/dist/main.js`)

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

const WORKER_MAIN = path.join(path.dirname(require.resolve('@datagen/worker/dist/worker')), 'main.js');

export async function spawnWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = track(
    spawn(process.execPath, [WORKER_MAIN], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = collect(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start within 20 s: ${output()}`)), 20_000);
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-2000);
      if (seen.includes('"worker started"')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code}) before it started: ${output()}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, pid: child.pid!, stop: () => stopChild(child, 10_000) };
}
