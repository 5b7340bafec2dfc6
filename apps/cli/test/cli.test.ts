import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tenantOf } from '../../api/src/auth';
import { KEY_A, KEY_B, startStack, waitFor, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';
import { Webhook } from 'standardwebhooks';

/**
 * The compiled CLI (apps/cli/dist/main.js; `npm test` builds first), run as
 * a child process against a real stack: API, worker and Redis.
 */

const CLI = path.resolve(__dirname, '../dist/main.js');

let stack: TestStack;
let dir: string;
/** The stack signs webhooks with it, and may send them to this machine (the test's receiver). */
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  // Inputs with commas, quotes and line breaks, so the CSV quoting is exercised.
  const decorate = (text: string, n: number) => (n % 3 === 1 ? `${text}, said "the user"` : n % 3 === 2 ? `${text}\nSecond line, ok` : text);
  stack = await startStack({
    provider: new SequenceProvider({ latencyMs: 20, decorate }),
    env: { WEBHOOK_SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'datagen-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string | undefined> = {}): ChildProcess & { done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, PI_CLIENT_BASE_URL: `${stack.url}/v1`, WITHPI_API_KEY: KEY_A, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return Object.assign(child, { done });
}

const datagen = (args: string[], env?: Record<string, string | undefined>) => start(args, env).done;

async function getJob(jobId: string, key = KEY_A): Promise<any> {
  const res = await fetch(`${stack.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': key } });
  expect(res.status).toBe(200);
  return res.json();
}

function jobIdOf(run: Run): string {
  const id = /job ([0-9a-f]{32})/.exec(run.stderr)?.[1];
  if (id === undefined) throw new Error(`no job id in: ${run.stderr}`);
  return id;
}

function file(name: string, content?: string): string {
  const p = path.join(dir, name);
  if (content !== undefined) writeFileSync(p, content);
  return p;
}

/** An RFC 4180 reader, to check what the CLI writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

const DESCRIPTION = 'A customer-support assistant for a home internet provider.';
const SEEDS_TXT = 'How do I reset my router?\n\nMy bill doubled this month, why?\n';

describe('datagen generate', () => {
  it('writes -n 12 inputs as JSONL to --out, with plain progress lines when stderr is not a terminal', async () => {
    const out = file('data.jsonl');
    const run = await datagen(['generate', '--description', DESCRIPTION, '--seeds', file('seeds.txt', SEEDS_TXT), '-n', '12', '--mode', 'CREATIVE', '--batch-size', '4', '--out', out]);
    expect(run.stderr).toMatch(/done: 12 inputs written to .*data\.jsonl/);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/12\/12 inputs, [\d.]+\/s, ETA 0s/);

    const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(12);
    const inputs = lines.map((l) => JSON.parse(l).input as string);
    const job = await getJob(jobIdOf(run));
    expect(job.state).toBe('DONE');
    expect(inputs).toEqual(job.data);

    const record = await stack.api.ctx.jobs.store.readRecord(job.job_id);
    expect(record?.request).toMatchObject({
      seeds: ['How do I reset my router?', 'My bill doubled this month, why?'],
      exploration_mode: 'CREATIVE',
      batch_size: 4,
    });
  });

  it('writes CSV with a header and RFC 4180 quoting, chosen by the .csv extension', async () => {
    const out = file('data.csv');
    const run = await datagen(['generate', '-d', DESCRIPTION, '-s', file('seeds.txt', SEEDS_TXT), '-n', '9', '-o', out]);
    expect(run.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['input']);
    expect(rows.slice(1).every((row) => row.length === 1)).toBe(true);
    const inputs = rows.slice(1).map((row) => row[0]);
    expect(inputs).toEqual((await getJob(jobIdOf(run))).data);
    // the awkward ones came through quoted
    expect(inputs.some((i) => i!.includes(', said "the user"'))).toBe(true);
    expect(inputs.some((i) => i!.includes('\nSecond line, ok'))).toBe(true);
    expect(text).toContain('said ""the user"""\r\n');
  });

  it('writes plain lines to stdout with --format lines, line breaks of an input turned into spaces', async () => {
    const run = await datagen(['generate', '-d', DESCRIPTION, '-s', file('seeds.txt', SEEDS_TXT), '-n', '6', '--format', 'lines']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    const data: string[] = (await getJob(jobIdOf(run))).data;
    expect(lines).toEqual(data.map((d) => d.replace(/\n/g, ' ')));
  });

  it('reads seeds as a JSON array, as JSON Lines (its own output too), or one a line', async () => {
    const cases: Array<[string, string]> = [
      ['seeds.json', JSON.stringify(['How do I reset my router?', 'My bill doubled this month, why?'])],
      ['seeds.jsonl', '"How do I reset my router?"\n"My bill doubled this month, why?"\n'],
      ['seeds-objects.jsonl', '{"input":"How do I reset my router?"}\n{"input":"My bill doubled this month, why?"}\n'],
      ['seeds-plain.txt', '\uFEFFHow do I reset my router?\r\nMy bill doubled this month, why?\r\n'],
    ];
    for (const [name, content] of cases) {
      const run = await datagen(['generate', '-d', DESCRIPTION, '-s', file(name, content), '-n', '2', '-q', '-o', file(`${name}.out.jsonl`)]);
      expect(run.code).toBe(0);
      const record = await stack.api.ctx.jobs.store.readRecord(jobIdOf(run));
      expect(record?.request.seeds).toEqual(['How do I reset my router?', 'My bill doubled this month, why?']);
    }
  });
});

describe('datagen status, list, cancel, stream', () => {
  let doneJob: string;
  beforeAll(async () => {
    const run = await datagen(['generate', '-d', DESCRIPTION, '-s', file('seeds.txt', SEEDS_TXT), '-n', '5', '-q', '-o', file('small.jsonl')]);
    expect(run.code).toBe(0);
    doneJob = jobIdOf(run);
  });

  it('status shows the state and progress, or the whole status with --json', async () => {
    const run = await datagen(['status', doneJob]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`job:      ${doneJob}`);
    expect(run.stdout).toMatch(/state: +DONE/);
    expect(run.stdout).toMatch(/inputs: +5 of 5/);
    expect(run.stdout).toMatch(/quality: +5 accepted of \d+ generated; rejected: \d+ exact duplicates/);
    expect(run.stdout).toMatch(/cost: +about \$0\.0000; \$0\.0000 per 1,000 inputs; \d+ billed tokens per accepted input; cache: \d+ tokens read, \d+ written/);
    expect(run.stdout).toMatch(/diversity: distinct-1 [\d.]+, distinct-2 [\d.]+, mean pairwise ROUGE-L [\d.]+, compression ratio [\d.]+/);
    const json = await datagen(['status', doneJob, '--json']);
    expect(JSON.parse(json.stdout)).toEqual(await getJob(doneJob));
  });

  it('list shows this key’s jobs, filtered by --state', async () => {
    const run = await datagen(['list']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^JOB +STATE +INPUTS +CREATED$/);
    expect(run.stdout).toMatch(new RegExp(`${doneJob} +DONE +5/5`));
    const done = JSON.parse((await datagen(['list', '--state', 'DONE', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(done.map((j) => j.job_id)).toContain(doneJob);
    const queued = JSON.parse((await datagen(['list', '--state', 'QUEUED', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(queued.map((j) => j.job_id)).not.toContain(doneJob);
    const other = await datagen(['list', '--json'], { WITHPI_API_KEY: KEY_B });
    expect((JSON.parse(other.stdout) as Array<{ job_id: string }>).map((j) => j.job_id)).not.toContain(doneJob);
  });

  it('generate --economy asks for economy mode: a server without a batch API refuses it, naming the option', async () => {
    const run = await datagen(['generate', '-d', DESCRIPTION, '-n', '3', '--economy', '-q']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--economy');
    expect(run.stderr).toContain('batch API');
  });

  it('generate --webhook-url sends the job its signed events (--webhook-progress: progress too); a URL the server refuses is named by its option', async () => {
    const received: Array<{ type: string; job_id: string }> = [];
    const verifier = new Webhook(WEBHOOK_SECRET);
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(verifier.verify(body, req.headers as Record<string, string>) as { type: string; job_id: string });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as { port: number };
      const run = await datagen(['generate', '-d', DESCRIPTION, '-n', '3', '--webhook-url', `http://127.0.0.1:${port}/hook`, '--webhook-progress', '-q', '-o', file('hooked.jsonl')]);
      expect(run.code).toBe(0);
      const jobId = jobIdOf(run);
      await waitFor(async () => received.find((e) => e.job_id === jobId && e.type === 'job.done'), 20_000, 'the job.done event');
      // Asked for by --webhook-progress (delivered on its own, so maybe after the end).
      await waitFor(async () => received.find((e) => e.job_id === jobId && e.type === 'job.progress'), 20_000, 'a job.progress event');

      const refused = await datagen(['generate', '-d', DESCRIPTION, '-n', '3', '--webhook-url', 'ftp://example.com/hook', '-q']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--webhook-url');
      expect(refused.stderr).toContain('http:// or https://');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('list --limit shows the newest jobs, and --all follows the pages to the oldest', async () => {
    const every = JSON.parse((await datagen(['list', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(every.length).toBeGreaterThan(1);
    const newest = JSON.parse((await datagen(['list', '--limit', '1', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(newest.map((j) => j.job_id)).toEqual([every.at(-1)!.job_id]);
    const paged = JSON.parse((await datagen(['list', '--limit', '1', '--all', '--json'])).stdout) as Array<{ job_id: string }>;
    expect(paged.map((j) => j.job_id)).toEqual(every.map((j) => j.job_id));
    const bad = await datagen(['list', '--limit', '0']);
    expect(bad.code).toBe(2);
  });

  it('items writes each input with its provenance, as JSON lines or CSV; rejected writes the candidates not kept', async () => {
    const job = await getJob(doneJob);
    const jsonl = await datagen(['items', doneJob]);
    expect(jsonl.code).toBe(0);
    const items = jsonl.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(items.map((i: any) => i.input)).toEqual(job.data);
    expect(items[0]).toMatchObject({ index: 0, batch: expect.any(Number), examples: expect.any(Array), critic: { verdict: expect.any(String) } });
    const out = file('items.csv');
    const csv = await datagen(['items', doneJob, '-o', out]);
    expect(csv.code).toBe(0);
    expect(csv.stderr).toContain(`${job.data.length} inputs written to ${out}`);
    const rows = readFileSync(out, 'utf8').split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('index,input,batch,theme,examples,model,temperature,critic_verdict,critic_reason,nearest_source,nearest_index,nearest_similarity,accepted_at');
    expect(rows).toHaveLength(job.data.length + 1);
    const rejected = await datagen(['rejected', doneJob, '--format', 'csv']);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout.split('\r\n')[0]).toBe('index,input,reason,detail,duplicate_source,duplicate_index,similarity,filter,batch,theme,rejected_at');
    const missing = await datagen(['items', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no job no-such-job');
  });

  it('generate --dataset adds to a dataset; datasets lists it; dataset export writes JSONL, CSV or Parquet; dataset delete removes it', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await datagen(['generate', '-d', DESCRIPTION, '-n', '3', '--dataset', 'cli-set', '-q', '-o', file(`ds${i}.jsonl`)]);
      expect(run.code).toBe(0);
    }
    const listed = await datagen(['datasets']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^DATASET +INPUTS +JOBS +UPDATED/);
    expect(listed.stdout).toMatch(/cli-set +6 +2 /);
    const jsonl = await datagen(['dataset', 'export', 'cli-set']);
    expect(jsonl.stdout.split('\n').filter(Boolean)).toHaveLength(6);
    const csv = await datagen(['dataset', 'export', 'cli-set', '--format', 'csv']);
    expect(csv.stdout.split('\r\n')[0]).toBe('input,job_id');
    const parquet = file('set.parquet');
    const written = await datagen(['dataset', 'export', 'cli-set', '-o', parquet]);
    expect(written.code).toBe(0);
    expect(readFileSync(parquet).subarray(0, 4).toString()).toBe('PAR1');
    expect((await datagen(['dataset', 'delete', 'cli-set'])).code).toBe(0);
    const gone = await datagen(['dataset', 'export', 'cli-set']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Dataset cli-set not found/);
  });

  it('stream writes the inputs, or with --messages the progress messages, to the end', async () => {
    const data = await datagen(['stream', doneJob]);
    expect(data.code).toBe(0);
    expect(data.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).input)).toEqual((await getJob(doneJob)).data);
    const messages = await datagen(['stream', doneJob, '--messages']);
    expect(messages.code).toBe(0);
    expect(messages.stdout.trimEnd().split('\n').at(-1)).toBe('DONE');
  });

  it('cancel stops a running job, and says so when the job has already ended', async () => {
    const started = await fetch(`${stack.url}/v1/data/generate`, {
      method: 'POST',
      headers: { 'x-api-key': KEY_A, 'content-type': 'application/json' },
      body: JSON.stringify({ application_description: DESCRIPTION, num_inputs_to_generate: 5000, seeds: ['a seed'], batch_size: 1 }),
    });
    const { job_id: jobId } = (await started.json()) as { job_id: string };
    const run = await datagen(['cancel', jobId]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`Job ${jobId} .*cancel`));
    await waitFor(async () => (await getJob(jobId)).state === 'CANCELLED', 15_000, 'the job to end CANCELLED');

    const again = await datagen(['cancel', jobId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409: Job .* has already ended \(CANCELLED\)/);
  });
});

describe('clear errors', () => {
  it('names the URL it cannot reach', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const url = `http://127.0.0.1:${port}/v1`;
    const run = await datagen(['list', '--url', url]);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`datagen: cannot reach the datagen API at ${url}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    const viaEnv = await datagen(['generate', '-d', DESCRIPTION, '-n', '3'], { PI_CLIENT_BASE_URL: url });
    expect(viaEnv.code).toBe(3);
    expect(viaEnv.stderr).toContain(`cannot reach the datagen API at ${url}`);
  });

  it('says when the URL answers but is not the API', async () => {
    const run = await datagen(['list', '--url', `${stack.url}/not-the-api`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`the datagen API is not at ${stack.url}/not-the-api`);
  });

  it('says the key was rejected, and how to set it', async () => {
    for (const args of [['list'], ['generate', '-d', DESCRIPTION, '-n', '3'], ['status', 'x']]) {
      const run = await datagen(args, { WITHPI_API_KEY: 'not-a-key' });
      expect(run.code).toBe(4);
      expect(run.stderr).toBe('datagen: the API rejected the key: set WITHPI_API_KEY or --api-key\n');
    }
    const flag = await datagen(['list', '--api-key', 'not-a-key']);
    expect(flag.code).toBe(4);
    const none = await datagen(['list'], { WITHPI_API_KEY: '' });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('no API key: set WITHPI_API_KEY or --api-key');
  });

  it('names a bad seeds file and its problem, before any job starts', async () => {
    const before = (await stack.api.ctx.jobs.store.page(tenantOfKeyA(), 'all', 1000, null)).entries.length;
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing.txt', undefined, /cannot read it: no such file/],
      ['empty.txt', '  \n\n', /it is empty/],
      ['broken.json', '["a", "b"', /it starts like a JSON array but is not valid JSON/],
      ['numbers.json', '["a", 3]', /item 2 is a number, not a string/],
      ['broken.jsonl', '"a"\n"b"\n{oops\n', /line 3 is not valid JSON/],
    ];
    for (const [name, content, problem] of cases) {
      const p = file(name, content);
      const run = await datagen(['generate', '-d', DESCRIPTION, '-s', p, '-n', '3']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`bad seeds file ${p}: `);
      expect(run.stderr).toMatch(problem);
    }
    expect((await stack.api.ctx.jobs.store.page(tenantOfKeyA(), 'all', 1000, null)).entries.length).toBe(before);
  });

  it('points at the seed the API rejected, by its line', async () => {
    const p = file('long.txt', `fine seed\n${'x'.repeat(10_001)}\n`);
    const run = await datagen(['generate', '-d', DESCRIPTION, '-s', p, '-n', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the seeds file ${p}, line 2: Too big`);
  });

  it('rejects bad options with exit code 2', async () => {
    for (const args of [['generate', '-d', DESCRIPTION, '-n', 'ten'], ['generate', '-d', DESCRIPTION, '-n', '3', '--batch-size', '11'], ['generate', '-n', '3'], ['frobnicate']]) {
      const run = await datagen(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^datagen: /);
    }
  });

  it('says when a job does not exist', async () => {
    const run = await datagen(['status', 'no-such-job']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('datagen: no job no-such-job (for this API key)\n');
  });
});

describe('Ctrl-C', () => {
  it('cancels the job, keeps what arrived, and exits 130', async () => {
    const out = file('interrupted.jsonl');
    const child = start(['generate', '-d', DESCRIPTION, '-s', file('seeds.txt', SEEDS_TXT), '-n', '5000', '--batch-size', '1', '-o', out]);
    await waitFor(async () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3, 15_000, 'the first inputs');
    child.kill('SIGINT');
    const run = await child.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/interrupted: cancelling job [0-9a-f]{32}/);
    const jobId = jobIdOf(run);
    const job = await waitFor(async () => {
      const j = await getJob(jobId);
      return j.state === 'CANCELLED' ? j : null;
    });
    expect(job.data.length).toBeLessThan(5000);
    const written = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).input);
    expect(written.length).toBeGreaterThan(2);
    // everything the job kept is in the file (the CLI waits for the job to stop, then writes the rest)
    expect(written).toEqual(job.data);
    expect(run.stderr).toContain(`${written.length} inputs written to ${out}`);
  });
});

/** The tenant a key stands for (a hash of it), to count its jobs in the store. */
function tenantOfKeyA(): string {
  return tenantOf(KEY_A);
}
