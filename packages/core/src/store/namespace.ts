import { Cluster, type Redis } from 'ioredis';
import { queuePrefix, type RedisClient } from '../queue';

/**
 * Every key of one namespace (a KEY_PREFIX with its queue): the job store's
 * and BullMQ's. Tests, benchmarks and the chaos run each use a namespace of
 * their own and delete it with this when they are done.
 */
export function namespacePatterns(keyPrefix: string): string[] {
  return [`${keyPrefix}:*`, `${queuePrefix(keyPrefix)}:*`];
}

/** The servers that hold keys: SCAN walks one server only, so a cluster is scanned node by node. */
async function keyHolders(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis.nodes('master');
}

/** Every key matching `pattern`, on whichever node it lives, with that node. */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<Array<{ key: string; node: Redis }>> {
  const found: Array<{ key: string; node: Redis }> = [];
  for (const node of await keyHolders(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.push({ key, node });
    } while (cursor !== '0');
  }
  return found;
}

/**
 * Deletes a namespace's keys and answers how many. Each key is unlinked on
 * the node that holds it, one command a key (on a cluster, one UNLINK of
 * keys of several slots is refused), pipelined per node.
 */
export async function deleteNamespace(redis: RedisClient, keyPrefix: string): Promise<number> {
  let deleted = 0;
  for (const pattern of namespacePatterns(keyPrefix)) {
    const found = await scanKeys(redis, pattern);
    for (const node of new Set(found.map((f) => f.node))) {
      const keys = found.filter((f) => f.node === node).map((f) => f.key);
      await keys.reduce((pipeline, key) => pipeline.unlink(key), node.pipeline()).exec();
      deleted += keys.length;
    }
  }
  return deleted;
}
