import { KEY_A, KEY_B, startStack, type TestStack } from '../../../test/support/stack';

/** Idempotency-Key on POST: a retried request gets the job the first one created. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.stop());

const body = { application_description: 'Answer questions about trees.', num_inputs_to_generate: 5, seeds: ['How tall do oaks grow?'] };

async function post(key: string | undefined, payload: unknown = body, apiKey = KEY_A) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await fetch(`${stack.url}/v1/data/generate`, { method: 'POST', headers, body: JSON.stringify(payload) });
  return { status: res.status, json: (await res.json()) as any, replayed: res.headers.get('idempotent-replayed') };
}

async function jobCount(apiKey = KEY_A): Promise<number> {
  const res = await fetch(`${stack.url}/v1/data/generate`, { headers: { 'x-api-key': apiKey } });
  return ((await res.json()) as unknown[]).length;
}

it('answers the same job to a retried request, and creates no second one', async () => {
  const before = await jobCount();
  const first = await post('retry-1');
  const second = await post('retry-1');
  expect(first.status).toBe(200);
  expect(second.status).toBe(200);
  expect(second.json.job_id).toBe(first.json.job_id);
  expect(first.replayed).toBeNull();
  expect(second.replayed).toBe('true');
  expect(await jobCount()).toBe(before + 1);
});

it('creates one job for concurrent requests with one key', async () => {
  const answers = await Promise.all(Array.from({ length: 6 }, () => post('concurrent-1')));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(new Set(answers.map((a) => a.json.job_id)).size).toBe(1);
});

it('refuses a key reused with a different request', async () => {
  await post('reused-1');
  const other = await post('reused-1', { ...body, num_inputs_to_generate: 6 });
  expect(other.status).toBe(409);
  expect(other.json.detail).toMatch(/different request/);
});

it('keeps keys apart per tenant, and new keys make new jobs', async () => {
  const a = await post('shared-name');
  const b = await post('shared-name', body, KEY_B);
  const c = await post('another-name');
  expect(new Set([a.json.job_id, b.json.job_id, c.json.job_id]).size).toBe(3);
});

it('answers 422 for an over-long key and creates nothing', async () => {
  const before = await jobCount();
  const res = await post('k'.repeat(256));
  expect(res.status).toBe(422);
  expect(res.json.detail[0].loc).toEqual(['header', 'idempotency-key']);
  expect(await jobCount()).toBe(before);
});

it('without the header, every request is a new job', async () => {
  const first = await post(undefined);
  const second = await post(undefined);
  expect(first.json.job_id).not.toBe(second.json.job_id);
});
