import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Queue } from 'bullmq';
import { connect, createQueue, JobService, JobStore, type GenerationJobData, type RedisClient, type RedisMode } from '@datagen/core';
import { deleteNamespace, KEY_A, KEY_B, redisMode, redisUrl } from './stack';

/**
 * The service as real processes: the compiled API and workers
 * (`apps/{api,worker}/dist/main.js`, built by `npm test`'s pretest) run as
 * child processes that a test can SIGKILL or SIGTERM, and a throwaway
 * `redis-server` a test can kill -9 and restart. Every child is killed at
 * the end of the test (ProcessStack.stop), or when the jest worker exits.
 */

const ROOT = path.resolve(__dirname, '../..');
export const API_MAIN = path.join(ROOT, 'apps/api/dist/main.js');
export const WORKER_MAIN = path.join(ROOT, 'apps/worker/dist/main.js');

/** The key the fake Anthropic server accepts (its default). */
export const FAKE_ANTHROPIC_KEY = 'test-key';

/** One pino JSON line of a child's stdout. */
export interface LogLine {
  level?: number;
  msg?: string;
  [field: string]: unknown;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Children still running, so the jest worker's exit can take them along. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A child process whose output is kept: pino lines parsed, everything as text for failure messages. */
export class ChildService {
  readonly logs: LogLine[] = [];
  readonly output: string[] = [];
  readonly exited: Promise<ExitStatus>;
  exitStatus: ExitStatus | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(child);
    this.exited = new Promise((resolve) => {
      const exited = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exitStatus !== null) return;
        live.delete(child);
        this.exitStatus = { code, signal };
        this.notify();
        resolve(this.exitStatus);
      };
      child.once('exit', exited);
      // It could not be started at all (e.g. redis-server is not installed): no 'exit' follows.
      child.once('error', (error) => {
        this.output.push(`[spawn] ${error.message}`);
        if (child.pid === undefined) exited(null, null);
      });
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.output.push(line);
      const parsed = parseLogLine(line);
      if (parsed !== null) this.logs.push(parsed);
      this.notify();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.output.push(`[stderr] ${line}`));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitStatus === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    return this.waitUntil(() => this.logs.find(match), timeoutMs, `${this.name} to log ${what}`, true);
  }

  waitForExit(timeoutMs: number): Promise<ExitStatus> {
    return this.waitUntil(() => this.exitStatus ?? undefined, timeoutMs, `${this.name} to exit`, false);
  }

  /** The last lines of its output, for a failure message. */
  tail(lines = 25): string {
    return this.output.slice(-lines).join('\n');
  }

  private waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string, failOnExit: boolean): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        this.listeners.delete(poll);
        if (error !== null) reject(error);
        else resolve(value as T);
      };
      const poll = () => {
        const value = check();
        if (value !== undefined) done(null, value);
        else if (failOnExit && !this.running) {
          done(new Error(`${this.name} exited (${describeExit(this.exitStatus!)}) before ${what.replace(`${this.name} to `, '')}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; its last output:\n${this.tail()}`)), timeoutMs);
      this.listeners.add(poll);
      poll();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export class ApiService extends ChildService {
  constructor(
    name: string,
    child: ChildProcess,
    /** Where it serves, e.g. http://127.0.0.1:PORT. */
    readonly url: string,
  ) {
    super(name, child);
  }
}

/** A free TCP port on the loopback interface (free now; the caller binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A random namespace (queue name and key prefix), like testConfig()'s. */
export function newNamespace(): string {
  return `p${randomBytes(5).toString('hex')}`;
}

export interface ServiceEnvOptions {
  namespace: string;
  redisUrl: string;
  redisMode?: RedisMode;
  /** The fake Anthropic server's URL: the children use the Anthropic provider against it. Absent: the offline generator. */
  anthropicUrl?: string;
  /** Wins over the defaults below. */
  env?: Record<string, string>;
}

/**
 * The environment of an API or worker child. It starts from nothing but
 * PATH, so nothing from the developer's shell (a real ANTHROPIC_API_KEY,
 * API_KEYS, NODE_ENV=production) leaks into a test.
 */
export function serviceEnv(options: ServiceEnvOptions): Record<string, string> {
  const llm: Record<string, string> =
    options.anthropicUrl === undefined
      ? { LLM_PROVIDER: 'offline' }
      : {
          LLM_PROVIDER: 'anthropic',
          ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
          ANTHROPIC_BASE_URL: options.anthropicUrl,
          ANTHROPIC_MODEL: 'claude-test',
          ANTHROPIC_MAX_RETRIES: '2',
          ANTHROPIC_TIMEOUT_MS: '60000',
        };
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    REDIS_MODE: options.redisMode ?? 'standalone',
    QUEUE_NAME: options.namespace,
    KEY_PREFIX: options.namespace,
    API_KEYS: `${KEY_A},${KEY_B}`,
    LOG_LEVEL: 'info',
    // Small, so a killed worker's jobs are taken over within seconds.
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_SHUTDOWN_GRACE_MS: '5000',
    // No worker metrics endpoint: several workers share this host, and it would listen beyond loopback.
    METRICS_PORT: '0',
    ...llm,
    ...options.env,
  };
}

export async function startApiProcess(env: Record<string, string>, name = 'api'): Promise<ApiService> {
  const port = env.PORT !== undefined && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  const service = new ApiService(name, spawnNode(API_MAIN, { ...env, HOST: '127.0.0.1', PORT: String(port) }), `http://127.0.0.1:${port}`);
  const deadline = Date.now() + 15_000;
  // Ready means Redis answers too: GET /readyz is 200.
  for (;;) {
    if (!service.running) throw new Error(`${name} exited (${describeExit(service.exitStatus!)}) before it was ready:\n${service.tail()}`);
    const ready = await fetch(`${service.url}/readyz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) return service;
    if (Date.now() > deadline) {
      service.kill('SIGKILL');
      throw new Error(`${name} was not ready (GET /readyz 200) within 15 s:\n${service.tail()}`);
    }
    await sleep(50);
  }
}

export async function startWorkerProcess(env: Record<string, string>, name = 'worker'): Promise<ChildService> {
  const service = new ChildService(name, spawnNode(WORKER_MAIN, env));
  try {
    await service.waitForLog((line) => line.msg === 'worker started', 15_000, "'worker started'");
  } catch (error) {
    service.kill('SIGKILL');
    throw error;
  }
  return service;
}

function spawnNode(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * One test's service: API and worker children sharing a namespace on one
 * Redis, plus the test's own client, job store and queue on that namespace.
 * stop() kills every child still running and deletes the namespace's keys.
 * It uses the test run's Redis (REDIS_URL, REDIS_MODE) unless given its own
 * `redisUrl`, which is a single server.
 */
export class ProcessStack {
  readonly namespace = newNamespace();
  readonly redisMode: RedisMode;
  readonly redis: RedisClient;
  readonly store: JobStore;
  readonly queue: Queue<GenerationJobData>;
  /** The job service on the test's own connection: to submit and read jobs without an API process. */
  readonly jobs: JobService;
  readonly children: ChildService[] = [];
  private workerCount = 0;

  constructor(readonly options: { redisUrl?: string; anthropicUrl?: string; env?: Record<string, string> } = {}) {
    this.redisMode = options.redisUrl !== undefined ? 'standalone' : redisMode();
    const redisNodes = this.redisUrl.split(',').map((url) => url.trim());
    // maxRetriesPerRequest null: the test's reads wait out a Redis restart instead of failing.
    this.redis = connect({ redisMode: this.redisMode, redisNodes }, { maxRetriesPerRequest: null });
    this.redis.on('error', () => undefined); // a test that stops Redis on purpose
    this.store = new JobStore(this.redis, this.namespace, 1);
    this.queue = createQueue(this.namespace, this.namespace, this.redis);
    this.queue.on('error', () => undefined);
    this.jobs = new JobService(this.store, this.queue, { retentionHours: 1, price: null });
  }

  get redisUrl(): string {
    return this.options.redisUrl ?? redisUrl();
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return serviceEnv({
      namespace: this.namespace,
      redisUrl: this.redisUrl,
      redisMode: this.redisMode,
      anthropicUrl: this.options.anthropicUrl,
      env: { ...this.options.env, ...extra },
    });
  }

  async startApi(extra: Record<string, string> = {}): Promise<ApiService> {
    return this.track(startApiProcess(this.env(extra)));
  }

  async startWorker(extra: Record<string, string> = {}): Promise<ChildService> {
    return this.track(startWorkerProcess(this.env(extra), `worker ${++this.workerCount}`));
  }

  /** Kills every child still running (SIGKILL), waits for them, deletes the namespace. */
  async stop(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(this.children.map((child) => child.exited));
    await this.queue.close().catch(() => undefined);
    // Bounded: the Redis a test stopped may not come back.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)));
    await Promise.race([deleteNamespace(this.redis, this.namespace).catch(() => undefined), timeout]);
    clearTimeout(timer);
    this.redis.disconnect();
  }

  private async track<T extends ChildService>(starting: Promise<T>): Promise<T> {
    const child = await starting;
    this.children.push(child);
    return child;
  }
}

/**
 * A throwaway redis-server on a free loopback port with AOF on, in a
 * directory of its own: kill() is a kill -9, start() brings it back on the
 * same port and directory (reloading the AOF), destroy() stops it and
 * deletes the directory.
 */
export class RedisServerProcess {
  private process: ChildService | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly persistent: boolean,
  ) {}

  /** `persistent: false`: no AOF, for a test that needs a Redis of its own but not its durability. */
  static async create(options: { persistent?: boolean } = {}): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort(), await mkdtemp(path.join(tmpdir(), 'datagen-redis-')), options.persistent ?? true);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--appendonly', this.persistent ? 'yes' : 'no',
      // fsync on every write: the test asserts that nothing acknowledged is lost,
      // which `everysec` (the compose setting) only promises to within a second.
      '--appendfsync', 'always',
      '--save', '',
      '--daemonize', 'no',
      '--maxmemory-policy', 'noeviction',
    ];
    const child = new ChildService(`redis-server :${this.port}`, spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    this.process = child;
    try {
      await waitUntil(() => child.output.some((line) => line.includes('Ready to accept connections')) || !child.running, 10_000, 'redis-server to start');
      if (!child.running) throw new Error(`redis-server exited (${describeExit(child.exitStatus!)}):\n${child.tail()}`);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** kill -9: no shutdown, no final save; only what the AOF holds survives. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === null) return;
    child.kill('SIGKILL');
    await child.exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `signal ${status.signal}` : `code ${status.code}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true, or fails after `timeoutMs` naming `what`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function parseLogLine(line: string): LogLine | null {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return null;
  }
}
