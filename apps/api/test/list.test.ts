import { Redis } from 'ioredis';
import { NO_QUOTA, startJobSchema, type JobService } from '@datagen/core';
import { RedisServerProcess } from '../../../test/support/processes';
import { KEY_A, KEY_B, startStack, type TestStack } from '../../../test/support/stack';
import { tenantOf } from '../src/auth';

/**
 * The list is paginated and reads only its page: with thousands of jobs under
 * one key, a page costs the same Redis work as with a few hundred. The Redis
 * is this test's own, so its command counts are this test's alone.
 */

let stack: TestStack;
let redis: RedisServerProcess;
let counter: Redis;

beforeAll(async () => {
  redis = await RedisServerProcess.create({ persistent: false });
  counter = new Redis(redis.url);
  stack = await startStack({ env: { REDIS_URL: redis.url } });
}, 30_000);
afterAll(async () => {
  await stack?.stop();
  counter?.disconnect();
  await redis?.destroy();
});

const request = startJobSchema(10).parse({ application_description: 'Answer questions.', seeds: ['What is a lantern?'], num_inputs_to_generate: 3 });

/** `count` jobs of `key`'s, ended CANCELLED before they ran (quick to make: no queue, no worker), oldest first. */
async function endedJobs(jobs: JobService, key: string, count: number): Promise<string[]> {
  const tenant = tenantOf(key);
  const ids: string[] = [];
  const base = Date.now() - count;
  for (let start = 0; start < count; start += 200) {
    const chunk = Array.from({ length: Math.min(200, count - start) }, (_, i) => start + i);
    await Promise.all(
      chunk.map(async (i) => {
        const jobId = `job${String(i).padStart(6, '0')}${key}`;
        ids[i] = jobId;
        await jobs.store.create({ jobId, tenant, request, createdAt: base + i, message: 'Queued' });
        await jobs.store.admit(tenant, { jobId, createdAt: base + i, n: 3 }, NO_QUOTA);
        await jobs.end({ jobId, target: 3 }, null, { state: 'CANCELLED', message: 'Cancelled.', report: null });
      }),
    );
  }
  return ids;
}

/** Redis commands served so far (INFO commandstats), by command. */
async function commandCounts(): Promise<Map<string, number>> {
  const info = await counter.info('commandstats');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1]!, Number(match[2]));
  return counts;
}

/** Commands one GET of `path` cost Redis (INFO itself excluded). */
async function commandsFor(path: string, key: string): Promise<{ commands: number; res: Response }> {
  const before = await commandCounts();
  const res = await fetch(`${stack.url}${path}`, { headers: { 'x-api-key': key } });
  const after = await commandCounts();
  let commands = 0;
  for (const [name, calls] of after) if (name !== 'info') commands += calls - (before.get(name) ?? 0);
  return { commands, res };
}

function nextLink(res: Response): string | null {
  const link = res.headers.get('link');
  if (link === null) return null;
  const match = /^<([^>]+)>; rel="next"$/.exec(link);
  if (match === null) throw new Error(`not a next link: ${link}`);
  return match[1]!;
}

it('pages through thousands of jobs of one key, newest first, each job once, with the same work per page', async () => {
  const jobs = stack.api.ctx.jobs;
  const many = await endedJobs(jobs, KEY_A, 3_000);
  const few = await endedJobs(jobs, KEY_B, 300);

  await fetch(`${stack.url}/v1/data/generate`, { headers: { 'x-api-key': KEY_A } }); // loads the scripts on this new Redis

  // The first page: the newest 100, oldest first within it, with a link to the next.
  const first = await commandsFor('/v1/data/generate', KEY_A);
  expect(first.res.status).toBe(200);
  const firstPage = (await first.res.json()) as any[];
  expect(firstPage.map((s) => s.job_id)).toEqual(many.slice(-100));
  expect(firstPage[0]).toMatchObject({ state: 'CANCELLED', data: null, detailed_status: ['Cancelled.'] });

  // The same page of the key with a tenth of the jobs costs Redis the same.
  const small = await commandsFor('/v1/data/generate', KEY_B);
  expect(((await small.res.json()) as any[]).map((s) => s.job_id)).toEqual(few.slice(-100));
  expect(first.commands).toBe(small.commands);
  // One script a job (it reads the record, the count of inputs and the last message: about six commands), and the page.
  expect(first.commands).toBeLessThan(100 * 8);

  // Following the links visits every job once, newest pages first.
  const seen: string[] = [];
  let path: string | null = '/v1/data/generate?limit=700';
  let pages = 0;
  while (path !== null) {
    const res = await fetch(`${stack.url}${path}`, { headers: { 'x-api-key': KEY_A } });
    expect(res.status).toBe(200);
    const page = ((await res.json()) as any[]).map((s) => s.job_id as string);
    expect(page.length).toBeLessThanOrEqual(700);
    seen.unshift(...page);
    path = nextLink(res);
    pages++;
  }
  expect(pages).toBe(5);
  expect(seen).toEqual(many);
});

it('filters by state from an index of that state, and keeps tenants apart', async () => {
  const jobs = stack.api.ctx.jobs;
  const tenant = tenantOf(KEY_A);
  // Two queued jobs (no worker runs here) among the ended ones.
  const queued = [(await jobs.submit(tenant, request)).status.job_id, (await jobs.submit(tenant, request)).status.job_id];
  const cancelled = await commandsFor('/v1/data/generate?state=CANCELLED&limit=50', KEY_A);
  const page = (await cancelled.res.json()) as any[];
  expect(page).toHaveLength(50);
  expect(page.every((s) => s.state === 'CANCELLED')).toBe(true);
  expect(cancelled.commands).toBeLessThan(50 * 8);

  const open = await fetch(`${stack.url}/v1/data/generate?state=QUEUED`, { headers: { 'x-api-key': KEY_A } });
  expect(((await open.json()) as any[]).map((s) => s.job_id)).toEqual(queued);
  expect(open.headers.get('link')).toBeNull();
  const none = await fetch(`${stack.url}/v1/data/generate?state=DONE`, { headers: { 'x-api-key': KEY_A } });
  expect(await none.json()).toEqual([]);
  // KEY_B's list never holds KEY_A's jobs.
  const other = await fetch(`${stack.url}/v1/data/generate?limit=1000`, { headers: { 'x-api-key': KEY_B } });
  expect(((await other.json()) as any[]).some((s) => queued.includes(s.job_id))).toBe(false);
});

it('answers 422 for a bad limit or a cursor it did not hand out', async () => {
  for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'limit=2.5', 'cursor=not-a-cursor', `cursor=${Buffer.from('1:../x').toString('base64url')}`, 'state=FINISHED']) {
    const res = await fetch(`${stack.url}/v1/data/generate?${query}`, { headers: { 'x-api-key': KEY_A } });
    expect({ query, status: res.status }).toEqual({ query, status: 422 });
    const body = (await res.json()) as any;
    expect(body.detail[0].loc[0]).toBe('query');
  }
});
