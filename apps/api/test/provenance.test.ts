import { KEY_A, KEY_B, startStack, submitJob, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/** Inside a job, over HTTP: each input's provenance, and the candidates that were not kept. */

let stack: TestStack;
afterEach(() => stack?.stop());

const SEEDS = ['Question: what is a lantern?', 'Question: how old is the oldest sequoia?'];

async function get(path: string, key = KEY_A) {
  const res = await fetch(`${stack.url}${path}`, { headers: { 'x-api-key': key } });
  const text = await res.text();
  return { status: res.status, text, link: res.headers.get('link'), type: res.headers.get('content-type') };
}

it('serves every input with where it came from, and every rejected candidate with why, paged or as JSON lines', async () => {
  // Every third answer repeats a seed (shouted) or the input before it: rejected as duplicates.
  let previous = '';
  const provider = new SequenceProvider({
    decorate: (text, n) => {
      const out = n % 3 === 2 ? (n % 2 === 0 ? SEEDS[1]!.toUpperCase() : previous) : text;
      previous = text;
      return out;
    },
  });
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '1' } });
  const jobId = await submitJob(stack, { application_description: 'Answer questions about things.', seeds: SEEDS, num_inputs_to_generate: 12, batch_size: 3, exploration_mode: 'CONSERVATIVE' });
  const done = await waitForJobEnd(stack, jobId);
  expect(done.state).toBe('DONE');

  // One page of all: each input in order, with its provenance.
  const all = await get(`/v1/data/generate/${jobId}/items?limit=1000`);
  expect(all.status).toBe(200);
  const items = JSON.parse(all.text) as any[];
  expect(items.map((i) => i.input)).toEqual(done.data);
  expect(items.map((i) => i.index)).toEqual([...done.data.keys()]);
  for (const item of items) {
    expect(item).toMatchObject({ model: 'test sequence provider', critic: { verdict: 'good', reason: null } });
    expect(item.batch).toBeGreaterThanOrEqual(1);
    expect(typeof item.theme).toBe('string');
    expect(Date.parse(item.accepted_at)).not.toBeNaN();
    expect(item.examples.length).toBeGreaterThan(0);
    for (const example of item.examples) {
      if (example.source === 'seed') expect(example.index).toBeLessThan(SEEDS.length);
      else expect(example.index).toBeLessThan(item.index); // an input accepted before it
    }
  }
  expect(all.link).toBeNull();

  // Pages of 5, followed through the Link header, give the same.
  const paged: any[] = [];
  let path: string | null = `/v1/data/generate/${jobId}/items?limit=5`;
  while (path !== null) {
    const page = await get(path);
    paged.push(...(JSON.parse(page.text) as any[]));
    path = page.link === null ? null : /^<([^>]+)>; rel="next"$/.exec(page.link)![1]!;
  }
  expect(paged).toEqual(items);

  // JSON lines, from an offset.
  const lines = await get(`/v1/data/generate/${jobId}/items?format=jsonl&offset=4&limit=3`);
  expect(lines.type).toMatch(/^application\/x-ndjson/);
  expect(lines.text.split('\n').filter(Boolean).map((line) => JSON.parse(line))).toEqual(items.slice(4));

  // The rejected: duplicates of a seed and of earlier inputs, each with what it repeats.
  const rejected = JSON.parse((await get(`/v1/data/generate/${jobId}/rejected`)).text) as any[];
  expect(rejected.length).toBe(done.report.rejected.exact_duplicate + done.report.rejected.near_duplicate);
  expect(rejected.length).toBeGreaterThan(0);
  for (const r of rejected) {
    expect(['exact_duplicate', 'near_duplicate']).toContain(r.reason);
    expect(r.duplicate_of).not.toBeNull();
    const of = r.duplicate_of.source === 'seed' ? SEEDS[r.duplicate_of.index] : done.data[r.duplicate_of.index];
    expect(r.detail).toContain(of.slice(0, 20));
  }
  expect(rejected.some((r) => r.duplicate_of.source === 'seed' && r.duplicate_of.index === 1)).toBe(true);
  expect(rejected.some((r) => r.duplicate_of.source === 'input')).toBe(true);

  // Another key sees nothing; a bad query is a 422.
  expect((await get(`/v1/data/generate/${jobId}/items`, KEY_B)).status).toBe(404);
  expect((await get(`/v1/data/generate/${jobId}/rejected`, KEY_B)).status).toBe(404);
  for (const query of ['limit=0', 'offset=-1', 'format=xml', 'limit=1001']) {
    expect((await get(`/v1/data/generate/${jobId}/items?${query}`)).status).toBe(422);
  }
});
