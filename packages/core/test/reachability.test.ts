import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describeRedis, isConnectionError, RedisWatch } from '../src/redis/reachability';
import { RedisServerProcess, waitUntil } from '../../../test/support/processes';

/**
 * What a process logs while Redis is missing, against a real redis-server
 * that is not there yet, then there, then killed: one line where the client
 * reports an error on every reconnect attempt.
 */

interface Line {
  level: number;
  msg: string;
  err?: string;
  errors?: number;
}

let server: RedisServerProcess | undefined;
let client: Redis | undefined;
let watch: RedisWatch | undefined;
afterEach(async () => {
  watch?.close();
  client?.disconnect();
  await server?.destroy();
  server = client = watch = undefined;
});

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (text: string) => lines.push(JSON.parse(text) as Line) });
  return { logger, lines };
}

/** A client of a Redis that is not running (yet): it retries every 50 ms, reporting an error each time. */
async function absentRedis(): Promise<{ url: string; errors: () => number }> {
  server = await RedisServerProcess.create({ persistent: false });
  await server.kill(); // its port, free again
  client = new Redis(server.url, { retryStrategy: () => 50, maxRetriesPerRequest: null, disconnectTimeout: 100 });
  let errors = 0;
  client.on('error', () => errors++);
  return { url: server.url, errors: () => errors };
}

it('says once, after the startup grace, that no Redis answers and how to get one; then nothing per failed reconnect', async () => {
  const { logger, lines } = capture();
  const { url, errors } = await absentRedis();
  watch = new RedisWatch(client!, logger, url, { startupGraceMs: 200, repeatMs: 3_600_000 });
  await waitUntil(() => lines.length > 0 && errors() >= 10, 10_000, 'the startup line and ten failed reconnects');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 50, err: expect.stringContaining('ECONNREFUSED') });
  expect(lines[0]!.msg).toContain(`No Redis answers at ${url}`);
  expect(lines[0]!.msg).toContain('apt install redis-server');
  expect(lines[0]!.msg).toContain('redis-server');

  // It comes: one line. It goes: its first error, and nothing more within the repeat period.
  await server!.start();
  await waitUntil(() => lines.length === 2, 10_000, 'the line saying Redis answers');
  expect(lines[1]).toMatchObject({ level: 30, msg: `Redis at ${url} answers` });
  await server!.kill();
  const before = errors();
  await waitUntil(() => errors() >= before + 10, 10_000, 'ten failed reconnects');
  expect(lines.slice(2)).toEqual([expect.objectContaining({ level: 40, msg: 'redis connection error' })]);
  await server!.start();
  await waitUntil(() => lines.length === 4, 10_000, 'the line saying Redis answers again');
  expect(lines[3]).toMatchObject({ level: 30, msg: `Redis at ${url} answers again` });
});

it('repeats "still no Redis" at most once per repeat period, with the errors since', async () => {
  const { logger, lines } = capture();
  const { url, errors } = await absentRedis();
  // A repeat period of 0: each failed reconnect after the startup line is a "still" line.
  watch = new RedisWatch(client!, logger, url, { startupGraceMs: 100, repeatMs: 0 });
  await waitUntil(() => lines.length >= 3, 10_000, 'two "still no Redis" lines');
  expect(errors()).toBeGreaterThanOrEqual(3);
  expect(lines[0]!.msg).toContain('No Redis answers');
  expect(lines.slice(1, 3)).toEqual([
    expect.objectContaining({ level: 40, msg: `still no Redis at ${url}; retrying`, errors: 1 }),
    expect.objectContaining({ level: 40, msg: `still no Redis at ${url}; retrying`, errors: 1 }),
  ]);
});

it('logs every error that is not about reaching Redis, as before', async () => {
  const { logger, lines } = capture();
  client = new Redis({ lazyConnect: true });
  watch = new RedisWatch(client, logger, 'redis://127.0.0.1:6379', { startupGraceMs: 3_600_000 });
  watch.report(new Error('OOM command not allowed when used memory > maxmemory'), 'worker error');
  watch.report(new Error('Missing lock for job 1. moveToFinished'), 'worker error');
  expect(lines.map((l) => [l.msg, l.err])).toEqual([
    ['worker error', 'OOM command not allowed when used memory > maxmemory'],
    ['worker error', 'Missing lock for job 1. moveToFinished'],
  ]);
});

it('tells connection errors from answers, and keeps passwords out of the logs', () => {
  expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
  expect(isConnectionError(new Error('Failed to refresh slots cache.'))).toBe(true);
  expect(isConnectionError(new Error('NOSCRIPT No matching script'))).toBe(false);
  expect(describeRedis(['redis://:s3cret@10.0.0.1:7000', 'redis://10.0.0.2:7000'])).toBe('redis://:***@10.0.0.1:7000,redis://10.0.0.2:7000');
});
