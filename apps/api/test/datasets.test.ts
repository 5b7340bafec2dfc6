import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalizeText, seededRandom, type GenerateBatchRequest, type GenerateBatchResult, type LlmProvider } from '@datagen/core';
import { uniqueSentence } from '../../../test/support/providers';
import { KEY_A, KEY_B, startStack, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';

/**
 * Datasets: a key's named set of inputs across jobs. Jobs of one dataset,
 * also running at once on different workers, never accept inputs alike to
 * each other's; a later job never repeats an earlier one's.
 */

let stack: TestStack;
afterEach(() => stack?.stop());

/** Answers random picks from one small pool of sentences: every job of it draws the same inputs. */
class PoolProvider implements LlmProvider {
  readonly name = 'pool provider';
  readonly isLlm = true;
  private readonly random = seededRandom(3);
  constructor(private readonly pool: number) {}
  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const usage = { inputTokens: 10, outputTokens: 10 };
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (request.context.purpose === 'themes') return { candidates: { inputs: ['pool theme'] }, usage };
    if (request.context.purpose === 'critique') return { candidates: { inputs: (request.context.toJudge ?? []).map(() => 'good') }, usage };
    return { candidates: { inputs: Array.from({ length: request.count }, () => uniqueSentence(Math.floor(this.random() * this.pool))) }, usage };
  }
}

async function call(method: string, urlPath: string, key = KEY_A, body?: unknown) {
  const res = await fetch(`${stack.url}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, text, json, res };
}

const job = (n: number, dataset: string, extra: object = {}) => ({
  application_description: 'Answer questions about things.',
  seeds: ['Question: what is a lantern?'],
  num_inputs_to_generate: n,
  batch_size: 5,
  dataset,
  ...extra,
});

it('jobs of one dataset on two workers at once accept nothing alike, a later one repeats none, and the dataset exports', async () => {
  stack = await startStack({ env: { JOB_MAX_PARALLEL_BATCHES: '2', JOB_MAX_BARREN_BATCHES: '40', CRITIC_ENABLED: 'false' } });
  await stack.startWorker(new PoolProvider(45));
  await stack.startWorker(new PoolProvider(45));
  const [a, b] = await Promise.all([call('POST', '/v1/data/generate', KEY_A, job(12, 'questions')), call('POST', '/v1/data/generate', KEY_A, job(12, 'questions'))]);
  const [doneA, doneB] = await Promise.all([waitForJobEnd(stack, a.json.job_id, 60_000), waitForJobEnd(stack, b.json.job_id, 60_000)]);
  expect([doneA.state, doneB.state]).toEqual(['DONE', 'DONE']);
  const first = [...doneA.data, ...doneB.data] as string[];
  expect(new Set(first.map(normalizeText)).size).toBe(24);

  // "12 more": none of them repeats the first two jobs'.
  const c = await call('POST', '/v1/data/generate', KEY_A, job(12, 'questions'));
  const doneC = await waitForJobEnd(stack, c.json.job_id, 60_000);
  expect(doneC.state).toBe('DONE');
  const all = [...first, ...doneC.data];
  expect(new Set(all.map(normalizeText)).size).toBe(36);

  // Listed, with its figures; another key does not see it.
  const listed = await call('GET', '/v1/datasets');
  expect(listed.json).toEqual([expect.objectContaining({ name: 'questions', items: 36, jobs: 3, unfinished_jobs: 0 })]);
  expect((await call('GET', '/v1/datasets', KEY_B)).json).toEqual([]);
  expect((await call('GET', '/v1/datasets/questions', KEY_B)).status).toBe(404);

  // Exports: JSON lines, CSV, Parquet (read back with hyparquet).
  const jsonl = await call('GET', '/v1/datasets/questions/export?format=jsonl');
  const lines = jsonl.text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  expect(lines.map((l) => l.input).sort()).toEqual([...all].sort());
  expect(new Set(lines.map((l) => l.job_id))).toEqual(new Set([a.json.job_id, b.json.job_id, c.json.job_id]));
  const csv = await call('GET', '/v1/datasets/questions/export?format=csv');
  expect(csv.text.split('\r\n')[0]).toBe('input,job_id');
  expect(csv.text.split('\r\n').filter(Boolean)).toHaveLength(37);
  const parquet = await fetch(`${stack.url}/v1/datasets/questions/export?format=parquet`, { headers: { 'x-api-key': KEY_A } });
  expect(parquet.headers.get('content-type')).toMatch(/parquet/);
  const rows = readParquet(Buffer.from(await parquet.arrayBuffer()));
  expect(rows.map((r) => r.input)).toEqual(lines.map((l) => l.input));
  expect(rows.map((r) => r.job_id)).toEqual(lines.map((l) => l.job_id));

  // Each input's provenance names the dataset input it was near, when it was (source 'dataset').
  expect((await call('GET', '/v1/datasets/nope/export')).status).toBe(404);
  expect((await call('GET', '/v1/datasets/bad%20name')).status).toBe(422);
});

it('refuses to delete a dataset with an unfinished job, deletes it once the job ended, and stops a job at DATASET_MAX_ITEMS', async () => {
  stack = await startStack({ env: { DATASET_MAX_ITEMS: '8', JOB_MAX_PARALLEL_BATCHES: '1', CRITIC_ENABLED: 'false' } });
  // No worker yet: the job stays queued.
  const queued = await call('POST', '/v1/data/generate', KEY_A, job(20, 'small'));
  const busy = await call('DELETE', '/v1/datasets/small');
  expect(busy.status).toBe(409);
  expect(busy.json.detail).toMatch(/1 unfinished job/);
  await stack.startWorker(new PoolProvider(1000));
  const ended = await waitForJobEnd(stack, queued.json.job_id, 30_000);
  // 8 fit; the batch that would pass it is refused, and the job ends ERROR with what it has.
  expect(ended.state).toBe('ERROR');
  expect(ended.data.length).toBeLessThanOrEqual(8);
  expect(ended.detailed_status.at(-1)).toMatch(/dataset "small" holds \d+ inputs, its most \(DATASET_MAX_ITEMS=8\)/);
  const info = await call('GET', '/v1/datasets/small');
  expect(info.json.items).toBe(ended.data.length);
  await waitFor(async () => (await call('GET', '/v1/datasets/small')).json.unfinished_jobs === 0, 10_000, 'the job to leave the dataset');
  expect((await call('DELETE', '/v1/datasets/small')).status).toBe(200);
  expect((await call('GET', '/v1/datasets')).json).toEqual([]);
  // The job's own data stays.
  expect((await call('GET', `/v1/data/generate/${queued.json.job_id}`)).json.data).toEqual(ended.data);
});

function readParquet(buffer: Buffer): Array<{ input: string; job_id: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'parquet-'));
  try {
    const file = path.join(dir, 'd.parquet');
    writeFileSync(file, buffer);
    const script = `import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
      const rows = await parquetReadObjects({ file: await asyncBufferFromFile(${JSON.stringify(file)}) });
      process.stdout.write(JSON.stringify(rows));`;
    return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.resolve(__dirname, '../../..') }).toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
