import http from 'node:http';
import { jobKeys, MAX_MESSAGES, type DataGenerationStatus } from '@datagen/core';
import { KEY_A, KEY_B, startStack, waitFor, type TestStack } from '../../../test/support/stack';
import { tenantOf } from '../src/auth';
import { readStatusBody, statusBytes, StatusCache } from '../src/statusBody';

/**
 * GET /data/generate/{id} answers from a cache of each job's encoded inputs
 * and messages, reading only what is new: its bytes must always be those of
 * JSON.stringify of the status read in full.
 */

let stack: TestStack;
afterEach(() => stack?.stop());

const request_ = {
  application_description: 'Answer questions about a small vocabulary of things.',
  seeds: ['Question: what is a lantern?'],
  num_inputs_to_generate: 10_000,
  batch_size: 10,
};

async function get(jobId: string, key = KEY_A) {
  return fetch(`${stack.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': key } });
}

function conditionalStatus(jobId: string, etag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(`${stack.url}/v1/data/generate/${jobId}`, { headers: { 'x-api-key': KEY_A, 'if-none-match': etag } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

async function full(jobId: string): Promise<string> {
  return JSON.stringify(await stack.api.ctx.jobs.status(tenantOf(KEY_A), jobId));
}

it('statusBytes is JSON.stringify with the given arrays spliced in, keys in order', () => {
  const status = { job_id: 'j', state: 'DONE', detailed_status: [], skipped: undefined, data: [], n: 1, nested: { a: [1, 'x"y'] } } as unknown as DataGenerationStatus;
  const messages = ['first "quoted"', 'second\nline', 'é ✓'];
  const data = ['a', 'b\\c'];
  const inside = (items: string[]) => Buffer.from(JSON.stringify(items).slice(1, -1));
  const bytes = statusBytes(status, { detailed_status: inside(messages), data: inside(data) });
  expect(bytes.toString('utf8')).toBe(JSON.stringify({ ...status, detailed_status: messages, data }));
  expect(statusBytes({ data: [] } as unknown as DataGenerationStatus, { data: inside([]) }).toString()).toBe('{"data":[]}');
});

it('answers the same bytes as a full read while inputs and messages grow, and after messages are trimmed', async () => {
  stack = await startStack();
  const created = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify(request_),
  });
  const jobId = ((await created.json()) as { job_id: string }).job_id;
  const store = stack.api.ctx.jobs.store;
  await store.claim(jobId, 'test-run'); // as a worker would
  let stored = 0;
  const append = async (batches: number) => {
    for (let b = 0; b < batches; b++) {
      const accepted = Array.from({ length: 4 }, (_, i) => `input ${stored + i} with "quotes", ünïcødé and a \\ backslash`);
      await store.appendBatch(jobId, 'test-run', stored, { accepted, usage: { inputTokens: 10, outputTokens: 5, calls: 1 }, message: `batch ${stored / 4}: 4 accepted` });
      stored += accepted.length;
    }
  };

  const first = await get(jobId);
  expect(first.status).toBe(200);
  expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await first.text()).toBe(await full(jobId));
  const etag = first.headers.get('etag')!;
  expect(etag).toMatch(/^W\/"/);
  // (Not with fetch: it adds Cache-Control: no-cache to conditional requests.)
  expect(await conditionalStatus(jobId, etag)).toBe(304);
  const head = await fetch(`${stack.url}/v1/data/generate/${jobId}`, { method: 'HEAD', headers: { 'x-api-key': KEY_A } });
  expect(head.status).toBe(200);
  expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(await full(jobId)));

  await append(5);
  const second = await get(jobId);
  expect(second.headers.get('etag')).not.toBe(etag);
  expect(await second.text()).toBe(await full(jobId));
  expect(await (await get(jobId)).text()).toBe(await full(jobId)); // nothing new

  // Past MAX_MESSAGES the stream is trimmed at its start: the cached messages must follow.
  await append(MAX_MESSAGES + 300);
  const trimmed = JSON.parse(await (await get(jobId)).text()) as DataGenerationStatus;
  expect(JSON.stringify(trimmed)).toBe(await full(jobId));
  expect(trimmed.data).toHaveLength(stored);
  expect(trimmed.detailed_status.length).toBeLessThan(stored / 4);
  // readItems reads in pages of 5,000: the same inputs, in order.
  expect(stored).toBeGreaterThan(5_000);
  expect(await store.readItems(jobId)).toEqual(trimmed.data);

  await store.finish(jobId, { state: 'ERROR', message: 'Stopped.', owner: 'test-run' });
  expect(await (await get(jobId)).text()).toBe(await full(jobId));
  // Another tenant never sees it, cached or not.
  expect((await get(jobId, KEY_B)).status).toBe(404);
}, 60_000);

it('a cache that disagrees with Redis is not trusted', async () => {
  stack = await startStack();
  const created = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify({ ...request_, num_inputs_to_generate: 10 }),
  });
  const jobId = ((await created.json()) as { job_id: string }).job_id;
  const { jobs } = stack.api.ctx;
  await jobs.store.claim(jobId, 'test-run');
  await jobs.store.appendBatch(jobId, 'test-run', 0, { accepted: ['one', 'two'], usage: { inputTokens: 0, outputTokens: 0, calls: 0 }, message: 'two' });
  const cache = new StatusCache();
  const read = async () => Buffer.concat((await readStatusBody(jobs, tenantOf(KEY_A), jobId, cache)).chunks).toString();
  expect(await read()).toBe(await full(jobId));
  // A cached count larger than the stream (cannot happen, but): a full read again.
  cache.set(jobId, { ...cache.get(jobId)!, data: { count: 5, json: Buffer.from('"x","x","x","x","x"') } });
  expect(await read()).toBe(await full(jobId));
});

it('reads, streams and ends a job the previous version stored (time-based message ids, no target field)', async () => {
  stack = await startStack();
  const { store } = stack.api.ctx.jobs;
  const k = jobKeys(stack.config.keyPrefix, 'oldjob1');
  const request = { ...request_, num_inputs_to_generate: 3, batch_size: 5, num_shots: 5, exploration_mode: 'BALANCED' };
  await stack.redis.hset(k.meta, 'tenant', tenantOf(KEY_A), 'request', JSON.stringify(request), 'created_at', String(Date.now() - 60_000), 'owner', 'old-run');
  await stack.redis.xadd(k.messages, '*', 'm', 'Queued: waiting for a worker.');
  await stack.redis.xadd(k.messages, '*', 'm', 'Batch 1: 3 new inputs accepted (3/3 done).');
  for (const [i, input] of ['one', 'two', 'three'].entries()) await stack.redis.xadd(k.data, `0-${i + 1}`, 'v', input);
  // It ends DONE: its target comes from its request.
  expect(await store.finish('oldjob1', { state: 'DONE', message: 'Done: 3 inputs generated.', owner: 'old-run' })).toMatchObject({ kind: 'finished' });

  const expected = { num_inputs_to_generate: 3, state: 'DONE', data: ['one', 'two', 'three'] };
  const messages = ['Queued: waiting for a worker.', 'Batch 1: 3 new inputs accepted (3/3 done).', 'Done: 3 inputs generated.'];
  for (let read = 0; read < 3; read++) {
    const status = (await (await get('oldjob1')).json()) as DataGenerationStatus;
    expect(status).toMatchObject(expected);
    expect(status.detailed_status).toEqual(messages); // the same on every read, cached or not
  }
  const stream = await fetch(`${stack.url}/v1/data/generate/oldjob1/messages`, { headers: { 'x-api-key': KEY_A } });
  expect((await stream.text()).split('\n').filter(Boolean)).toEqual([...messages, 'DONE']);
  const data = await fetch(`${stack.url}/v1/data/generate/oldjob1/data`, { headers: { 'x-api-key': KEY_A } });
  expect((await data.text()).split('\n').filter(Boolean)).toEqual(['"one"', '"two"', '"three"']);
});

it('lists by state the jobs the previous version stored (it indexed them only as all of a key), once per Redis', async () => {
  stack = await startStack();
  const { jobs, queue } = stack.api.ctx;
  const prefix = stack.config.keyPrefix;
  const mark = `${prefix}:migrations:state-indexes`;
  await waitFor(async () => (await stack.redis.get(mark)) ?? undefined, 5_000, 'the start-up indexing of an empty Redis');
  const tenant = tenantOf(KEY_A);
  const request = { ...request_, num_inputs_to_generate: 2, batch_size: 5, num_shots: 5, exploration_mode: 'BALANCED' };
  const createdAt = Date.now() - 60_000;
  // One ended DONE, one still queued, as that version wrote them: meta, streams, and the key's index of all jobs.
  for (const [jobId, state] of [['olddone1', 'DONE'], ['oldqueued1', null]] as const) {
    const k = jobKeys(prefix, jobId);
    await stack.redis.hset(k.meta, 'tenant', tenant, 'request', JSON.stringify(request), 'created_at', String(createdAt));
    await stack.redis.xadd(k.messages, '*', 'm', 'Queued: waiting for a worker.');
    if (state !== null) {
      await stack.redis.hset(k.meta, 'state', state, 'finished_at', String(createdAt + 1_000));
      for (const [i, input] of ['one', 'two'].entries()) await stack.redis.xadd(k.data, `0-${i + 1}`, 'v', input);
      await stack.redis.xadd(k.messages, '*', 'end', state);
    } else {
      await queue.add('generate', { jobId, n: 2, mode: 'BALANCED' }, { jobId });
    }
    await stack.redis.zadd(`${prefix}:tenant:{${tenant}}:jobs`, createdAt, jobId);
  }
  const listed = async (state: string) =>
    ((await (await fetch(`${stack.url}/v1/data/generate?state=${state}`, { headers: { 'x-api-key': KEY_A } })).json()) as DataGenerationStatus[]).map((j) => j.job_id);
  // Without the indexing, a list by state does not see them.
  expect(await listed('DONE')).toEqual([]);
  expect(await listed('QUEUED')).toEqual([]);

  await stack.redis.del(mark); // as on a Redis the previous version used
  expect(await jobs.indexEarlierJobs()).toBe(2);
  expect(await listed('DONE')).toEqual(['olddone1']);
  expect(await listed('QUEUED')).toEqual(['oldqueued1']);
  expect(await jobs.indexEarlierJobs()).toBeNull(); // once
});
