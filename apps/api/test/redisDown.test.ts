import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
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
