import { queuePrefix } from '../queue/queue';
import type { RedisClient } from '../redis/connection';
import { scanKeys } from '../redis/scan';

/**
 * Every key of one namespace (a KEY_PREFIX with its queue): the job store's
 * and BullMQ's. Tests, benchmarks and the chaos run each use a namespace of
 * their own and delete it with this when they are done.
 */
export function namespacePatterns(keyPrefix: string): string[] {
  return [`${keyPrefix}:*`, `${queuePrefix(keyPrefix)}:*`];
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
