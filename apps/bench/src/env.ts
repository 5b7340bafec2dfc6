import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { connect, type RedisClient } from '@datagen/core';

export { deleteNamespace } from '@datagen/core';

/**
 * The bench's surroundings: Redis (REDIS_URL, or a redis-server of its own on
 * a free loopback port, without persistence), per-run namespaces that are
 * deleted afterwards, child processes that are always stopped, and what the
 * machine is.
 */

export interface BenchRedis {
  url: string;
  /** Whether the bench started this redis-server itself (and stops it in close()). */
  own: boolean;
  version: string;
  close(): Promise<void>;
}

export async function setUpRedis(): Promise<BenchRedis> {
  const given = process.env.REDIS_URL?.trim();
  if (given) {
    const client = benchRedis(given);
    const version = redisVersion(await client.info('server'));
    client.disconnect();
    return { url: given, own: false, version, close: async () => undefined };
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const output = collect(child);
  const url = `redis://127.0.0.1:${port}`;
  let version = '';
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output()}`);
    const client = connect(url, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      version = redisVersion(await client.info('server'));
      break;
    } catch (error) {
      if (attempt >= 50) {
        await stopChild(child);
        throw new Error(`redis-server on port ${port} did not answer: ${String(error)} ${output()}`);
      }
      await sleep(100);
    } finally {
      client.disconnect();
    }
  }
  return { url, own: true, version, close: () => stopChild(child) };
}

function redisVersion(info: string): string {
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A namespace (QUEUE_NAME and KEY_PREFIX) of one measurement. */
export function namespace(label: string): string {
  return `bench-${label}-${randomBytes(3).toString('hex')}`;
}

export function benchRedis(url: string): RedisClient {
  const mode = process.env.REDIS_MODE?.trim() === 'cluster' ? 'cluster' : 'standalone';
  return connect({ redisMode: mode, redisNodes: url.split(',').map((u) => u.trim()) }, { maxRetriesPerRequest: 3 });
}


// ---------------------------------------------------------------------------
// Child processes

const children = new Set<ChildProcess>();

/** Registers a child so that it is stopped however the bench ends. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child still running (used on the way out, also after an error). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

/** Keeps the last few KB of a child's output, for error messages. */
export function collect(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

/** Peak and current resident set size of a process, in MB, from /proc (Linux). */
export function processMemory(pid: number): { peakMb: number; rssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (Linux), or null. */
export function processCpuSeconds(pid: number): number | null {
  try {
    // The fields after the command name, which is in parentheses and may hold spaces; utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every common platform. */
const CLOCK_TICKS = 100;

// ---------------------------------------------------------------------------
// The machine

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  redis: string;
}

export function describeMachine(redisVersion: string): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    redis: redisVersion,
  };
}

/** The 1-minute load average, rounded. */
export function load(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
