import { KEY_A, KEY_B, startStack, type TestStack } from '../../../test/support/stack';

/** The HTTP contract without a worker: validation, auth, routing, errors. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { MAX_INPUTS_PER_JOB: '500', MAX_BODY_BYTES: '65536' } });
});
afterAll(() => stack.stop());

const good = {
  application_description: "Write a children's story communicating a simple life lesson.",
  num_inputs_to_generate: 10,
  seeds: ['The quick brown fox jumped over the lazy dog'],
};

async function call(method: string, path: string, options: { body?: unknown; raw?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.key !== null) headers['x-api-key'] = options.key ?? KEY_A;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(`${stack.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as any, type: res.headers.get('content-type') };
}

describe('POST /data/generate', () => {
  it('queues a valid job under / and under /v1, with the defaults filled in', async () => {
    for (const prefix of ['', '/v1']) {
      const res = await call('POST', `${prefix}/data/generate`, { body: good });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ state: 'QUEUED', data: [] });
      expect(res.json.detailed_status[0]).toBe('Queued: waiting for a worker.');
      expect(res.json.job_id).toMatch(/^[0-9a-f]{32}$/);
      const stored = await stack.api.ctx.jobs.store.readRecord(res.json.job_id);
      expect(stored?.request).toMatchObject({ batch_size: 5, num_shots: 5, exploration_mode: 'BALANCED' });
    }
  });

  it('accepts an empty seed list and run_parallel_batches', async () => {
    const res = await call('POST', '/v1/data/generate', { body: { ...good, seeds: [], run_parallel_batches: true } });
    expect(res.status).toBe(200);
  });

  const invalid: Array<[string, Record<string, unknown>, Array<string | number>, string]> = [
    ['missing description', { ...good, application_description: undefined }, ['body', 'application_description'], 'missing'],
    ['empty description', { ...good, application_description: '   ' }, ['body', 'application_description'], 'string_too_short'],
    ['missing count', { ...good, num_inputs_to_generate: undefined }, ['body', 'num_inputs_to_generate'], 'missing'],
    ['zero count', { ...good, num_inputs_to_generate: 0 }, ['body', 'num_inputs_to_generate'], 'greater_than_equal'],
    ['count over the maximum', { ...good, num_inputs_to_generate: 501 }, ['body', 'num_inputs_to_generate'], 'less_than_equal'],
    ['fractional count', { ...good, num_inputs_to_generate: 2.5 }, ['body', 'num_inputs_to_generate'], 'int_from_float'],
    ['count as a string', { ...good, num_inputs_to_generate: '10' }, ['body', 'num_inputs_to_generate'], 'number_type'],
    ['missing seeds', { ...good, seeds: undefined }, ['body', 'seeds'], 'missing'],
    ['seeds not a list', { ...good, seeds: 'a seed' }, ['body', 'seeds'], 'array_type'],
    ['an empty seed', { ...good, seeds: ['fine', ''] }, ['body', 'seeds', 1], 'string_too_short'],
    ['a seed that is not a string', { ...good, seeds: ['fine', 3] }, ['body', 'seeds', 1], 'string_type'],
    ['batch_size 0', { ...good, batch_size: 0 }, ['body', 'batch_size'], 'greater_than_equal'],
    ['batch_size 11', { ...good, batch_size: 11 }, ['body', 'batch_size'], 'less_than_equal'],
    ['num_shots 11', { ...good, num_shots: 11 }, ['body', 'num_shots'], 'less_than_equal'],
    ['unknown mode', { ...good, exploration_mode: 'WILD' }, ['body', 'exploration_mode'], 'enum'],
    ['run_parallel_batches not a boolean', { ...good, run_parallel_batches: 'yes' }, ['body', 'run_parallel_batches'], 'boolean_type'],
    ['too many seeds', { ...good, seeds: Array.from({ length: 1001 }, (_, i) => `s${i}`) }, ['body', 'seeds'], 'too_long'],
    ['an over-long seed', { ...good, seeds: ['x'.repeat(10_001)] }, ['body', 'seeds', 0], 'string_too_long'],
  ];

  it.each(invalid)('answers 422 for %s, naming the field', async (_name, body, loc, type) => {
    const res = await call('POST', '/data/generate', { body });
    expect(res.status).toBe(422);
    expect(res.json.detail).toEqual(expect.arrayContaining([expect.objectContaining({ loc, type, msg: expect.any(String) })]));
  });

  it('answers 422 for a body that is not an object', async () => {
    const res = await call('POST', '/data/generate', { body: [good] });
    expect(res.status).toBe(422);
    expect(res.json.detail[0].loc).toEqual(['body']);
  });

  it('answers 400 for malformed JSON, with a clear message', async () => {
    const res = await call('POST', '/data/generate', { raw: '{"application_description": "x",' });
    expect(res.status).toBe(400);
    expect(res.json.detail).toMatch(/Malformed JSON/);
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await call('POST', '/data/generate', { body: { ...good, application_description: 'x'.repeat(70_000) } });
    expect(res.status).toBe(413);
  });

  it('stores nothing for a rejected request', async () => {
    const before = (await stack.api.ctx.jobs.store.page('nobody', 'all', 1000, null)).entries;
    await call('POST', '/data/generate', { body: { ...good, batch_size: 99 } });
    const list = await call('GET', '/data/generate', { key: KEY_B });
    expect(list.json).toEqual([]);
    expect(before).toEqual([]);
  });
});

describe('authentication and routing', () => {
  it('answers 401 without a key and with an unknown key, on every route', async () => {
    for (const [method, path] of [
      ['POST', '/data/generate'],
      ['GET', '/data/generate'],
      ['GET', '/v1/data/generate/abc'],
      ['DELETE', '/data/generate/abc'],
      ['GET', '/data/generate/abc/data'],
      ['GET', '/data/generate/abc/messages'],
    ] as const) {
      const body = method === 'POST' ? good : undefined;
      expect((await call(method, path, { key: null, body })).status).toBe(401);
      expect((await call(method, path, { key: 'wrong', body })).status).toBe(401);
    }
  });

  it('answers 404 for an unknown job on every job route', async () => {
    for (const [method, path] of [
      ['GET', '/data/generate/nosuchjob'],
      ['DELETE', '/data/generate/nosuchjob'],
      ['GET', '/data/generate/nosuchjob/data'],
      ['GET', '/data/generate/nosuchjob/messages'],
    ] as const) {
      const res = await call(method, path);
      expect(res.status).toBe(404);
      expect(res.json.detail).toMatch(/not found/);
    }
  });

  it('answers 422 for an unknown state filter', async () => {
    const res = await call('GET', '/data/generate?state=FINISHED');
    expect(res.status).toBe(422);
    expect(res.json.detail[0].loc).toEqual(['query', 'state']);
  });

  it('serves health without a key', async () => {
    expect((await call('GET', '/healthz', { key: null })).status).toBe(200);
    expect((await call('GET', '/readyz', { key: null })).status).toBe(200);
  });

  it('keeps the admin UI off when no admin credentials are configured', async () => {
    expect((await call('GET', '/admin/queues', { key: null })).status).toBe(404);
  });
});
