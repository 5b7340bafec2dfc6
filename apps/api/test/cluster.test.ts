import { Cluster } from 'ioredis';
import { jobKeys, queuePrefix, tenantKeys, type RedisClient } from '@datagen/core';
import { tenantOf } from '../src/auth';
import { KEY_A, redisMode, scanKeys, startStack, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * What running on a Redis Cluster needs: one job's keys in one slot, the
 * queue's keys in one slot, and the whole path (API, queue, worker, store,
 * streams) working. It runs in both modes: with `REDIS_MODE=cluster`
 * (`npm run test:cluster`) the cluster itself says which slot each key is in
 * (CLUSTER KEYSLOT); on a single Redis the same keys are checked by their
 * hash tags, which is what decides the slot.
 */

let stack: TestStack;
afterEach(() => stack?.stop());

/** The hash tag Redis Cluster hashes a key by: the text inside the first `{...}`, if not empty; else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

/** Slot of each key: from the cluster when there is one, else the hash tag stands for it. */
async function slots(redis: RedisClient, keys: string[]): Promise<Array<number | string>> {
  if (redis instanceof Cluster) return Promise.all(keys.map((key) => redis.cluster('KEYSLOT', key)));
  return keys.map(hashTag);
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

it(`runs on the Redis that REDIS_MODE names (${redisMode()})`, async () => {
  stack = await startStack();
  expect(stack.config.redisMode).toBe(redisMode());
  const cluster = redisMode() === 'cluster';
  expect(stack.api.ctx.redis instanceof Cluster).toBe(cluster);
  expect(stack.redis instanceof Cluster).toBe(cluster);
  const info = await stack.redis.info('cluster');
  expect(info).toMatch(cluster ? /cluster_enabled:1/ : /cluster_enabled:0/);
  if (stack.redis instanceof Cluster) {
    expect(stack.redis.nodes('master').length).toBeGreaterThanOrEqual(3);
    expect(await stack.redis.cluster('INFO')).toMatch(/cluster_state:ok/);
  }
});

it('a job started through the API ends DONE, with its keys in one slot and the queue in one slot', async () => {
  const provider = new SequenceProvider({ latencyMs: 20 });
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  const { status, json: started } = await api('POST', '/v1/data/generate', {
    application_description: 'Answer questions about a small vocabulary of things.',
    seeds: ['Question: what is a lantern?'],
    num_inputs_to_generate: 9,
    batch_size: 3,
  });
  expect(status).toBe(200);
  const jobId: string = started.job_id;

  // The stream follows the job to its end (XREAD BLOCK over the job's two streams, one slot).
  const streamed = await fetch(`${stack.url}/v1/data/generate/${jobId}/data`, { headers: { 'x-api-key': KEY_A } }).then((r) => r.text());
  const done = await waitForJobEnd(stack, jobId, 20_000);
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(9);
  expect(new Set(done.data).size).toBe(9);
  expect(streamed.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))).toEqual(done.data);
  expect((await api('GET', '/v1/data/generate')).json.map((j: { job_id: string }) => j.job_id)).toContain(jobId);

  // The job's keys: all three exist, and share one slot (the job id's).
  const prefix = stack.config.keyPrefix;
  const k = jobKeys(prefix, jobId);
  const jobKeyNames = [k.meta, k.data, k.messages];
  for (const key of jobKeyNames) expect(await stack.redis.exists(key)).toBe(1);
  expect(jobKeyNames.map(hashTag)).toEqual([jobId, jobId, jobId]);
  expect(new Set(await slots(stack.redis, jobKeyNames)).size).toBe(1);

  // The queue's keys, as BullMQ wrote them (found on whichever node holds them): one slot.
  const queueKeys = (await scanKeys(stack.redis, `${queuePrefix(prefix)}:*`)).map((f) => f.key);
  expect(queueKeys.length).toBeGreaterThanOrEqual(3);
  expect(queueKeys).toEqual(expect.arrayContaining([`${queuePrefix(prefix)}:${stack.config.queueName}:meta`]));
  expect(new Set(queueKeys.map(hashTag))).toEqual(new Set([`${prefix}-queue`]));
  expect(new Set(await slots(stack.redis, queueKeys)).size).toBe(1);
  if (stack.redis instanceof Cluster) {
    // all of the queue on one node, the node that owns its slot
    const holders = new Set((await scanKeys(stack.redis, `${queuePrefix(prefix)}:*`)).map((f) => f.node));
    expect(holders.size).toBe(1);
  }

  // The tenant's index is keyed by the tenant, not the job: another slot in
  // general, which is why creating a job writes the job first, then the index.
  const index = tenantKeys(prefix, tenantOf(KEY_A)).all;
  expect(hashTag(index)).toBe(tenantOf(KEY_A));
  expect(await stack.redis.zscore(index, jobId)).not.toBeNull();
});
