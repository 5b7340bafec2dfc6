import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connection';

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
