import { KEY_A, KEY_B, startStack, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/** Jobs end to end over HTTP: a real worker, the real Redis, a test provider. */
const request = {
  application_description: 'Answer questions about a small vocabulary of things.',
  seeds: ['Question: what is a lantern?', 'Question: how old is the oldest sequoia?'],
  exploration_mode: 'CONSERVATIVE',
};

let stack: TestStack;
afterEach(() => stack?.stop());

async function api(method: string, path: string, body?: unknown, key = KEY_A) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function readStream(path: string, key = KEY_A): Promise<string[]> {
  const res = await fetch(`${stack.url}${path}`, { headers: { 'x-api-key': key } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  return text.split('\n').filter((line) => line !== '');
}

const finished = (id: string) => waitForJobEnd(stack, id, 20_000);

it('generates exactly N distinct inputs, in order, and reports usage', async () => {
  const provider = new SequenceProvider();
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '4' } });
  const { json: started } = await api('POST', '/v1/data/generate', { ...request, num_inputs_to_generate: 23, batch_size: 10 });
  const done = await finished(started.job_id);
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(23);
  expect(new Set(done.data).size).toBe(23);
  expect(done.data).toEqual(await stack.api.ctx.jobs.store.readItems(started.job_id));
  expect(done.detailed_status[0]).toBe('Queued: waiting for a worker.');
  expect(done.detailed_status.some((m: string) => /^Started: generating 23 inputs/.test(m))).toBe(true);
  expect(done.detailed_status.at(-1)).toMatch(/^Done: 23 inputs generated/);
  expect(done.usage.llm_calls).toBe(provider.allCalls.length); // batches, themes and critiques
  expect(done.usage.input_tokens).toBe(100 * provider.allCalls.length);
  // never more calls in flight than the missing inputs could use: 23 needs 3 batches of 10
  expect(provider.calls.length).toBe(3);
  // the quality and cost report
  expect(done.report).toMatchObject({
    generated: 23,
    accepted: 23,
    rejected: { exact_duplicate: 0, near_duplicate: 0, filtered: 0, bad: 0 },
    unusable_answers: 0,
    estimated_cost_usd: 0, // the offline configuration prices tokens at 0
  });
  expect(done.report.diversity.distinct_1).toBeGreaterThan(0);
  expect(done.report.diversity.mean_pairwise_similarity).toBeLessThan(0.5);
  expect(started.report.diversity).toBeNull();
});

it('streams data and messages while the job runs, and replays them on every connection', async () => {
  const provider = new SequenceProvider({ latencyMs: 150, decorate: (text, n) => (n % 2 ? `${text}\nwith a second "line"` : text) });
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '1' } });
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 12, batch_size: 3 });

  // Connected before the job ends: lines arrive as items are stored, then the stream ends.
  const [dataLines, messageLines] = await Promise.all([
    readStream(`/data/generate/${started.job_id}/data`),
    readStream(`/data/generate/${started.job_id}/messages`),
  ]);
  const data = dataLines.map((line) => JSON.parse(line) as string);
  expect(data).toHaveLength(12);
  expect(data.some((item) => item.includes('\nwith a second "line"'))).toBe(true);
  expect(['QUEUED', 'RUNNING']).toContain(messageLines[0]);
  expect(messageLines.at(-1)).toBe('DONE');

  const status = (await api('GET', `/data/generate/${started.job_id}`)).json;
  expect(data).toEqual(status.data);
  expect(messageLines.slice(1, -1)).toEqual(status.detailed_status);

  // A finished job replays everything at once.
  const again = (await readStream(`/v1/data/generate/${started.job_id}/data`)).map((line) => JSON.parse(line));
  expect(again).toEqual(data);
  const messagesAgain = await readStream(`/v1/data/generate/${started.job_id}/messages`);
  expect(messagesAgain).toEqual([...status.detailed_status, 'DONE']);
});

it('lists only the caller’s jobs, filtered by state', async () => {
  stack = await startStack();
  const { json: a1 } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 5 });
  const { json: a2 } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 5 });
  const { json: b1 } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 5 }, KEY_B);
  await api('DELETE', `/data/generate/${a2.job_id}`);

  const all = (await api('GET', '/data/generate')).json as any[];
  expect(all.map((j) => j.job_id).sort()).toEqual([a1.job_id, a2.job_id].sort());
  expect((await api('GET', '/data/generate?state=QUEUED')).json.map((j: any) => j.job_id)).toEqual([a1.job_id]);
  expect((await api('GET', '/v1/data/generate?state=CANCELLED')).json.map((j: any) => j.job_id)).toEqual([a2.job_id]);
  expect((await api('GET', '/data/generate', undefined, KEY_B)).json.map((j: any) => j.job_id)).toEqual([b1.job_id]);
});

it('hides a job from every other tenant', async () => {
  stack = await startStack({ provider: new SequenceProvider() });
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 3 });
  await finished(started.job_id);
  for (const [method, path] of [
    ['GET', `/data/generate/${started.job_id}`],
    ['GET', `/data/generate/${started.job_id}/data`],
    ['GET', `/data/generate/${started.job_id}/messages`],
    ['DELETE', `/data/generate/${started.job_id}`],
  ] as const) {
    expect((await api(method, path, undefined, KEY_B)).status).toBe(404);
  }
});

it('cancels a queued job so that it never starts', async () => {
  stack = await startStack();
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 5 });
  const cancel = await api('DELETE', `/data/generate/${started.job_id}`);
  expect(cancel.status).toBe(200);
  expect(cancel.json).toMatch(/cancelled/);
  const provider = new SequenceProvider();
  await stack.startWorker(provider);
  await new Promise((r) => setTimeout(r, 300));
  const { json } = await api('GET', `/data/generate/${started.job_id}`);
  expect(json.state).toBe('CANCELLED');
  expect(json.data).toEqual([]);
  expect(provider.calls).toHaveLength(0);
  // a second cancel changes nothing and says why
  const again = await api('DELETE', `/data/generate/${started.job_id}`);
  expect(again.status).toBe(409);
  expect(again.json.detail).toMatch(/already ended \(CANCELLED\)/);
});

it('keeps a stream of a queued job open past a quiet spell, until the job runs and ends', async () => {
  // A job queued with no worker is quiet for longer than one blocking read (5 s) and the API's command timeout (5 s).
  stack = await startStack();
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 4, batch_size: 2 });
  const messages = readStream(`/v1/data/generate/${started.job_id}/messages`);
  const data = readStream(`/v1/data/generate/${started.job_id}/data`);
  await new Promise((r) => setTimeout(r, 7_000));
  await stack.startWorker(new SequenceProvider());
  const [messageLines, dataLines] = await Promise.all([messages, data]);
  expect(messageLines[0]).toBe('QUEUED');
  expect(messageLines.at(-1)).toBe('DONE');
  expect(dataLines).toHaveLength(4);
}, 30_000);

it('cancelling a job that went back to the queue with inputs says what it kept, and reports on them', async () => {
  // A job a worker handed back on shutdown (or lost in a crash) waits in the queue with inputs stored.
  stack = await startStack();
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 10 });
  const store = stack.api.ctx.jobs.store;
  await store.claim(started.job_id, 'earlier-run');
  const kept = ['Question: how tall is a sequoia?', 'Question: where do walruses sleep?', 'Question: what is a quill made of?'];
  await store.appendBatch(started.job_id, 'earlier-run', 0, { accepted: kept, usage: { inputTokens: 10, outputTokens: 5, calls: 1 }, message: 'Batch 1: 3 new inputs accepted.' });
  await store.addMessage(started.job_id, 'earlier-run', 'Interrupted: the worker is shutting down with 3 of 10 inputs stored; another worker resumes the job.');

  const cancel = await api('DELETE', `/data/generate/${started.job_id}`);
  expect(cancel).toEqual({ status: 200, json: `Job ${started.job_id} cancelled.` });
  const { json } = await api('GET', `/data/generate/${started.job_id}`);
  expect(json.state).toBe('CANCELLED');
  expect(json.data).toEqual(kept);
  expect(json.detailed_status.at(-1)).toBe('Cancelled; kept 3 of 10 inputs.');
  expect(json.report.accepted).toBe(3);
  expect(json.report.diversity).not.toBeNull();
});

it('cancels a running job: in-flight calls are aborted and the partial data kept', async () => {
  const provider = new SequenceProvider({ latencyMs: 300 });
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 1000, batch_size: 2 });
  await waitFor(async () => (await api('GET', `/data/generate/${started.job_id}`)).json.data.length >= 4, 10_000, 'some data');
  const cancel = await api('DELETE', `/data/generate/${started.job_id}`);
  expect(cancel.status).toBe(200);
  expect(cancel.json).toMatch(/being cancelled/);
  const ended = await finished(started.job_id);
  expect(ended.state).toBe('CANCELLED');
  expect(ended.data.length).toBeGreaterThanOrEqual(4);
  expect(ended.data.length).toBeLessThan(1000);
  expect(ended.detailed_status.at(-1)).toMatch(/^Cancelled; kept \d+ of 1000 inputs/);
  expect(provider.aborted).toBeGreaterThan(0);
  const callsAtEnd = provider.calls.length;
  await new Promise((r) => setTimeout(r, 700));
  expect(provider.calls.length).toBe(callsAtEnd); // no new batches after the cancel
});

it('ends ERROR with a clear message and keeps the partial data when batches stop yielding anything new', async () => {
  let n = 0;
  const repeating = new SequenceProvider({ decorate: (text) => (n++ < 6 ? text : 'Question: what is a lantern?') });
  stack = await startStack({ provider: repeating, env: { JOB_MAX_BARREN_BATCHES: '3', JOB_MAX_PARALLEL_BATCHES: '1' } });
  const { json: started } = await api('POST', '/data/generate', { ...request, num_inputs_to_generate: 50, batch_size: 3 });
  const ended = await finished(started.job_id);
  expect(ended.state).toBe('ERROR');
  expect(ended.data).toHaveLength(6);
  expect(ended.detailed_status.at(-1)).toMatch(/3 batches in a row produced no new inputs.*Kept 6 of 50 inputs/);
});
