import { startFakeAnthropic, type FakeAnthropic } from '@datagen/core/testing';
import { ProcessStack, type ApiService } from '../../../test/support/processes';
import { KEY_A, KEY_B, startStack, waitFor, type TestStack } from '../../../test/support/stack';
import { tenantOf } from '../src/auth';

/**
 * Fair share between API keys: one key's backlog never starves another, and
 * quotas refuse what is over them without queueing anything.
 */

describe('fair scheduling, with real processes', () => {
  let stack: ProcessStack;
  let api: ApiService;
  let fake: FakeAnthropic;
  afterEach(async () => {
    await stack?.stop();
    await fake?.close();
  });

  async function submit(key: string, n: number): Promise<string> {
    const res = await fetch(`${api.url}/v1/data/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ application_description: 'Answer questions about things.', seeds: ['What is a lantern?'], num_inputs_to_generate: n, batch_size: n }),
    });
    if (res.status !== 200) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { job_id: string }).job_id;
  }

  async function state(key: string, jobId: string): Promise<string> {
    const res = await fetch(`${api.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': key } });
    return ((await res.json()) as { state: string }).state;
  }

  /** How long each job waited in the queue (BullMQ's processedOn - timestamp), in seconds. */
  async function waits(ids: string[]): Promise<number[]> {
    const jobs = await Promise.all(ids.map((id) => stack.queue.getJob(id)));
    return jobs.filter((job) => job?.processedOn !== undefined).map((job) => (job!.processedOn! - job!.timestamp) / 1000);
  }

  it("a key that submits a few jobs behind another key's flood starts and ends them long before the flood drains", async () => {
    // Each job is two LLM calls (themes, one batch) of 150 ms; two workers run one job each at a time.
    fake = await startFakeAnthropic({ latencyMs: 150 });
    stack = new ProcessStack({ anthropicUrl: fake.url, env: { WORKER_CONCURRENCY: '1', CRITIC_ENABLED: 'false' } });
    api = await stack.startApi();
    const flood: string[] = [];
    for (let i = 0; i < 40; i++) flood.push(await submit(KEY_A, 3));
    await Promise.all([stack.startWorker(), stack.startWorker()]);
    await waitFor(async () => (await state(KEY_A, flood[0]!)) !== 'QUEUED', 15_000, 'the flood to start');
    const light = [await submit(KEY_B, 3), await submit(KEY_B, 3), await submit(KEY_B, 3)];

    await waitFor(async () => (await Promise.all(light.map((id) => state(KEY_B, id)))).every((s) => s === 'DONE'), 60_000, "the light key's jobs to end");
    const floodStates = await Promise.all(flood.map((id) => state(KEY_A, id)));
    const floodLeft = floodStates.filter((s) => s === 'QUEUED' || s === 'RUNNING').length;
    const lightWaits = await waits(light);
    const floodWaits = await waits(flood);
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
    console.log(
      `fair scheduling: the light key's 3 jobs waited ${lightWaits.map((w) => w.toFixed(1)).join(', ')} s in the queue; ` +
        `when they had all ended, ${floodLeft} of the flood's 40 had not (the flood's jobs so far waited p50 ${p50(floodWaits)} s)`,
    );
    // FIFO would run all 40 of the flood first; taking turns, the light key's jobs went next.
    expect(floodLeft).toBeGreaterThanOrEqual(25);
    const job = await stack.queue.getJob(light[2]!);
    expect(job?.opts.priority).toBe(3); // its key's third unfinished job
  }, 120_000);
});

describe('quotas', () => {
  let stack: TestStack;
  afterEach(() => stack?.stop());

  async function post(key: string, n = 3) {
    const res = await fetch(`${stack.url}/v1/data/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ application_description: 'Answer questions.', seeds: ['What is a lantern?'], num_inputs_to_generate: n }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as any };
  }

  async function queued(): Promise<number> {
    const counts = await stack.api.ctx.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async function listed(key: string): Promise<number> {
    const res = await fetch(`${stack.url}/v1/data/generate`, { headers: { 'x-api-key': key } });
    return ((await res.json()) as unknown[]).length;
  }

  it('answers 429 with Retry-After over the unfinished jobs of a key, queues nothing, and frees the quota when a job ends', async () => {
    // No worker: the jobs stay queued. KEY_B has a quota of its own.
    stack = await startStack({ env: { QUOTA_MAX_OPEN_JOBS: '2', KEY_QUOTAS: JSON.stringify({ [KEY_B]: { maxOpenJobs: 1 } }) } });
    const first = await post(KEY_A);
    expect((await post(KEY_A)).status).toBe(200);
    const over = await post(KEY_A);
    expect(over.status).toBe(429);
    expect(over.json.detail).toMatch(/2 unfinished jobs, its quota \(2 at once\)/);
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
    expect(await queued()).toBe(2);
    expect(await listed(KEY_A)).toBe(2);
    // Another key has its own count, and its own quota.
    expect((await post(KEY_B)).status).toBe(200);
    expect((await post(KEY_B)).status).toBe(429);
    // A job that ends (here cancelled) frees its place.
    const cancel = await fetch(`${stack.url}/v1/data/generate/${first.json.job_id}`, { method: 'DELETE', headers: { 'x-api-key': KEY_A } });
    expect(cancel.status).toBe(200);
    expect((await post(KEY_A)).status).toBe(200);
    expect(await queued()).toBe(3); // A's second and third (its first was cancelled and left the queue), B's one
  });

  it('answers 429 over the inputs of unfinished jobs, and over the submit rate, with the wait in Retry-After', async () => {
    stack = await startStack({ env: { QUOTA_MAX_OPEN_INPUTS: '100', KEY_QUOTAS: JSON.stringify({ [KEY_B]: { submitsPerMinute: 6 } }) } });
    expect((await post(KEY_A, 60)).status).toBe(200);
    const tooMany = await post(KEY_A, 50);
    expect(tooMany.status).toBe(429);
    expect(tooMany.json.detail).toMatch(/ask for 60 inputs; 50 more would pass its quota of 100/);
    expect((await post(KEY_A, 40)).status).toBe(200);
    // 6 a minute: a burst of one, then one every 10 s.
    expect((await post(KEY_B)).status).toBe(200);
    const tooFast = await post(KEY_B);
    expect(tooFast.status).toBe(429);
    expect(Number(tooFast.retryAfter)).toBeGreaterThanOrEqual(9);
    expect(Number(tooFast.retryAfter)).toBeLessThanOrEqual(10);
    expect(await queued()).toBe(3);
  });

  it("shows each key's queued and running jobs in /metrics, by a hash of the key", async () => {
    stack = await startStack();
    await post(KEY_A);
    await post(KEY_A);
    await post(KEY_B);
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    const label = (key: string) => tenantOf(key).slice(0, 12);
    expect(metrics).toContain(`datagen_key_jobs{key="${label(KEY_A)}",state="queued",service="api"} 2`);
    expect(metrics).toContain(`datagen_key_jobs{key="${label(KEY_B)}",state="queued",service="api"} 1`);
    expect(metrics).toContain(`datagen_key_jobs{key="${label(KEY_A)}",state="running",service="api"} 0`);
    expect(metrics).not.toContain(KEY_A);
  });

  it('holds under a burst of concurrent submits: exactly the quota is admitted', async () => {
    stack = await startStack({ env: { QUOTA_MAX_OPEN_JOBS: '5' } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(KEY_A)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(15);
    expect(await queued()).toBe(5);
    expect(await listed(KEY_A)).toBe(5);
  });
});

