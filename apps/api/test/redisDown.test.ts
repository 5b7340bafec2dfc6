import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startApiServer, type ApiServer } from '../src/server';
import { KEY_A, testConfig } from '../../../test/support/stack';

/** With Redis gone, the API answers 503 at once instead of hanging. */
let redis: ChildProcess;
let api: ApiServer;
let port: number;

beforeAll(async () => {
  port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  api = await startApiServer(testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }), pino({ level: 'silent' }));
});
afterAll(async () => {
  redis.kill('SIGKILL');
  await api.close();
});

async function timed(path: string, method = 'GET', body?: unknown) {
  const started = Date.now();
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'x-api-key': KEY_A, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000), // a hang fails the test instead of stalling it
  });
  return { status: res.status, json: (await res.json()) as any, ms: Date.now() - started };
}

it('answers 503 quickly on every route once Redis is unreachable, and recovers when it returns', async () => {
  const ok = await timed('/data/generate');
  expect(ok.status).toBe(200);

  redis.kill('SIGKILL');
  await new Promise((r) => redis.once('exit', r));
  for (const [method, path] of [
    ['GET', '/data/generate'],
    ['GET', '/data/generate/abc'],
    ['POST', '/data/generate'],
    ['DELETE', '/data/generate/abc'],
    ['GET', '/data/generate/abc/data'],
  ] as const) {
    const res = await timed(path, method, method === 'POST' ? { application_description: 'x', num_inputs_to_generate: 1, seeds: [] } : undefined);
    expect(res.status).toBe(503);
    expect(res.json.detail).toMatch(/unreachable/);
  }
  expect((await fetch(`${api.url}/readyz`)).status).toBe(503);

  redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  await waitForStatus(200);
});

async function waitForStatus(status: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await timed('/data/generate')).status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`API did not answer ${status} again`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A Redis that is up but refuses the work for now (full, demoted to a replica, paused): 503 too, and 200 again after. */
describe('a Redis that answers but cannot do the work', () => {
  let server: ChildProcess;
  let admin: Redis;
  let refusing: ApiServer;

  beforeAll(async () => {
    const serverPort = await freePort();
    server = spawn('redis-server', ['--port', String(serverPort), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    admin = new Redis(serverPort, '127.0.0.1', { retryStrategy: () => 100 });
    admin.on('error', () => undefined);
    await admin.ping(); // the offline queue holds it until the server is up
    refusing = await startApiServer(testConfig({ REDIS_URL: `redis://127.0.0.1:${serverPort}` }), pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await refusing.close();
    admin.disconnect();
    server.kill('SIGKILL');
  });

  async function call(method: string, path: string) {
    const res = await fetch(`${refusing.url}${path}`, {
      method,
      headers: { 'x-api-key': KEY_A, 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ application_description: 'x', num_inputs_to_generate: 1, seeds: [] }) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  it('full (maxmemory under noeviction): new jobs answer 503, reads still work', async () => {
    await admin.config('SET', 'maxmemory', '1');
    try {
      const res = await call('POST', '/v1/data/generate');
      expect(res.status).toBe(503);
      expect(res.json.detail).toMatch(/unreachable/);
      expect((await call('GET', '/v1/data/generate')).status).toBe(200);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect((await call('POST', '/v1/data/generate')).status).toBe(200);
  });

  it('demoted to a replica whose master is gone (MASTERDOWN, READONLY): 503 on every route', async () => {
    await admin.config('SET', 'replica-serve-stale-data', 'no');
    await admin.replicaof('127.0.0.1', await freePort());
    try {
      for (const [method, path] of [
        ['GET', '/v1/data/generate'],
        ['GET', '/v1/data/generate/abc'],
        ['POST', '/v1/data/generate'],
        ['DELETE', '/v1/data/generate/abc'],
      ] as const) {
        const res = await call(method, path);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 503 });
      }
    } finally {
      await admin.replicaof('NO', 'ONE');
    }
    expect((await call('GET', '/v1/data/generate')).status).toBe(200);
  });

  it("paused: a request that waits past the API's Redis timeout answers 503", async () => {
    const created = await call('POST', '/v1/data/generate');
    expect(created.status).toBe(200);
    refusing.ctx.redisTimeoutMs = 200;
    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE'); // writes wait; the admin's UNPAUSE is still served
    try {
      const res = await call('DELETE', `/v1/data/generate/${created.json.job_id}`); // reads the job, then waits to write
      expect(res.status).toBe(503);
      expect(res.json.detail).toMatch(/unreachable/);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      refusing.ctx.redisTimeoutMs = 3_000;
    }
    expect((await call('GET', `/v1/data/generate/${created.json.job_id}`)).status).toBe(200);
  });
});
