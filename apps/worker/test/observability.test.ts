import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger, createMetrics, type Config, type Metrics } from '@datagen/core';
import { startApiServer, type ApiServer } from '../../api/src/server';
import { startMetricsServer } from '../src/metricsServer';
import { startGenerationWorker, type GenerationWorker } from '../src/worker';
import { deleteNamespace, KEY_A, testConfig, waitFor } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/** Metrics and logs of a real API and worker running a job. */
class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  raw = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.raw += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line));
    done();
  }
}

let config: Config;
let api: ApiServer;
let worker: GenerationWorker;
let workerMetrics: Metrics;
const apiLogs = new LogLines();
const workerLogs = new LogLines();
let jobId: string;

beforeAll(async () => {
  config = testConfig({ LOG_LEVEL: 'info' });
  api = await startApiServer(config, createLogger('api', 'info', apiLogs));
  workerMetrics = createMetrics('worker');
  const provider = new SequenceProvider({ decorate: (text, n) => (n === 3 ? 'Question 0: repeat' : n === 2 ? 'Question 0: repeat' : text) });
  worker = await startGenerationWorker(config, provider, createLogger('worker', 'info', workerLogs), workerMetrics);
  const res = await fetch(`${api.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify({ application_description: 'Answer questions.', num_inputs_to_generate: 12, seeds: ['Question: what is a lantern?'], batch_size: 4 }),
  });
  jobId = ((await res.json()) as { job_id: string }).job_id;
  await waitFor(async () => {
    const status = await fetch(`${api.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': KEY_A } });
    return ((await status.json()) as { state: string }).state === 'DONE';
  });
});

afterAll(async () => {
  await worker.close(10_000);
  await api.close();
  const redis = new Redis(config.redisUrl);
  await deleteNamespace(redis, config.keyPrefix);
  redis.disconnect();
});

it('the API serves its metrics and BullMQ’s queue metrics at /metrics', async () => {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  expect(text).toMatch(/datagen_jobs_submitted_total\{service="api"\} 1/);
  expect(text).toMatch(new RegExp(`bullmq_job_count\\{queue="${config.queueName}", state="completed"\\} 1`));
  expect(text).toMatch(/process_cpu_seconds_total/);
});

it('the worker counts LLM calls, tokens, inputs by outcome and jobs by state, on its own port', async () => {
  const server = startMetricsServer(await freePort(), workerMetrics, createLogger('worker', 'silent'))!;
  await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
  const { port } = server.address() as AddressInfo;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  server.close();
  expect(sample(text, 'datagen_inputs_total', { outcome: 'accepted' })).toBe(12);
  expect(sample(text, 'datagen_inputs_total', { outcome: 'exact_duplicate' })).toBe(1);
  expect(sample(text, 'datagen_jobs_finished_total', { state: 'DONE' })).toBe(1);
  expect(sample(text, 'datagen_llm_call_duration_seconds_count', { provider: 'test sequence provider', outcome: 'ok' })).toBeGreaterThan(0);
  expect(sample(text, 'datagen_llm_tokens_total', { provider: 'test sequence provider', direction: 'input' })).toBeGreaterThan(0);
  expect(sample(text, 'datagen_inputs_total', { service: 'worker', outcome: 'accepted' })).toBe(12);
});

it('logs one JSON line per request with the job id, and never an API key', async () => {
  const requests = apiLogs.lines.filter((line) => line.req !== undefined);
  expect(requests.length).toBeGreaterThan(1);
  expect(requests.some((line) => line.jobId === jobId)).toBe(true);
  expect(apiLogs.raw).not.toContain(KEY_A);
  expect(apiLogs.raw).toContain('[redacted]');
});

it('logs each job transition with the job id', async () => {
  const transitions = workerLogs.lines.filter((line) => line.jobId === jobId).map((line) => line.msg);
  expect(transitions).toEqual(expect.arrayContaining(['job started', 'job ended']));
});

/** The value of the sample `name` whose labels include `labels`, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
