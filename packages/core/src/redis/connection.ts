import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config';
import { watchClusterNodes } from './errors';

/**
 * Connections to Redis: one server or a Redis Cluster, with the options of
 * the process that holds them (the API fails fast, workers wait).
 */

/**
 * The API's Redis client fails fast: no offline queue, one try per command,
 * so a request answers 503 at once when Redis is unreachable.
 */
export function apiRedisOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
}

/** Workers wait for Redis to come back instead of failing: BullMQ requires maxRetriesPerRequest null. */
export function workerRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  };
}

/** A connection to one Redis server or to a Redis Cluster; the job store, the API and the workers take either. */
export type RedisClient = Redis | Cluster;

/**
 * Connects to Redis as `REDIS_MODE` says: a single server at `REDIS_URL`, or
 * a Redis Cluster whose seed nodes `REDIS_URL` lists (comma-separated).
 * `options` are the per-connection options (`apiRedisOptions()`,
 * `workerRedisOptions()`); for a cluster they are split into the cluster's
 * own options and those of its node connections (`clusterOptions`).
 * A bare URL string means a single server.
 */
export function connect(target: RedisTarget | string, options: RedisOptions): RedisClient {
  const { redisMode, redisNodes } = typeof target === 'string' ? { redisMode: 'standalone', redisNodes: [target] } : target;
  if (redisMode === 'standalone') {
    if (redisNodes.length !== 1) throw new Error(`a standalone Redis needs exactly one URL, got ${redisNodes.length}`);
    return new Redis(redisNodes[0]!, options);
  }
  const cluster = new Cluster(redisNodes, clusterOptions(options, redisNodes[0]));
  watchClusterNodes(cluster); // tells a lost node from one not used yet (isRedisUnavailable)
  return cluster;
}

/**
 * ioredis's Cluster takes the offline queue and the reconnect strategy at the
 * cluster level and everything else per node (`redisOptions`). Credentials
 * and TLS of the first seed URL apply to every node, also the ones the
 * client discovers from the cluster itself.
 */
export function clusterOptions(options: RedisOptions, seedUrl?: string): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, enableReadyCheck, lazyConnect, ...perNode } = options;
  if (seedUrl !== undefined) {
    const url = new URL(seedUrl);
    if (url.username !== '') perNode.username = decodeURIComponent(url.username);
    if (url.password !== '') perNode.password = decodeURIComponent(url.password);
    if (url.protocol === 'rediss:') perNode.tls = perNode.tls ?? {};
  }
  // Strip what a node connection must not carry (its address comes from the cluster).
  delete perNode.host;
  delete perNode.port;
  delete perNode.path;
  delete perNode.sentinels;
  delete perNode.readOnly;
  return {
    ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
    ...(enableReadyCheck !== undefined && { enableReadyCheck }),
    ...(lazyConnect !== undefined && { lazyConnect }),
    ...(retryStrategy !== undefined && { clusterRetryStrategy: retryStrategy }),
    redisOptions: perNode,
  };
}

/**
 * A second connection like `client`, with some options changed: for a
 * blocking read or a subscriber, which hold their connection. On a cluster,
 * a whole second cluster client (its own connection to each node).
 */
export function duplicateConnection<C extends RedisClient>(client: C, overrides: RedisOptions = {}): C {
  if (client instanceof Cluster) {
    const extra = clusterOptions(overrides);
    const duplicate = client.duplicate([], {
      ...extra,
      redisOptions: { ...client.options.redisOptions, ...extra.redisOptions },
    });
    watchClusterNodes(duplicate);
    return duplicate as C;
  }
  return (client as Redis).duplicate(overrides) as C;
}
