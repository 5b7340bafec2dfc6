import { Cluster, Redis } from 'ioredis';
import { apiRedisOptions, clusterOptions, connect, duplicateConnection, workerRedisOptions } from '@datagen/core';

/**
 * How `connect()` builds its client for each REDIS_MODE. The clients are
 * created with lazyConnect, so nothing here needs a server; the suites that
 * talk to Redis run on a cluster with `npm run test:cluster`.
 */
describe('connect', () => {
  it('builds a single-server client in standalone mode, with the options given', () => {
    const redis = connect({ redisMode: 'standalone', redisNodes: ['redis://127.0.0.1:6390'] }, { ...apiRedisOptions(), lazyConnect: true });
    expect(redis).toBeInstanceOf(Redis);
    expect((redis as Redis).options).toMatchObject({ port: 6390, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.disconnect();
    expect(() => connect({ redisMode: 'standalone', redisNodes: ['redis://a:1', 'redis://b:2'] }, {})).toThrow(/exactly one URL/);
  });

  it('builds a cluster client from the seed nodes in cluster mode: the API fails fast there too', () => {
    const cluster = connect(
      { redisMode: 'cluster', redisNodes: ['redis://127.0.0.1:7100', 'redis://127.0.0.1:7101'] },
      { ...apiRedisOptions(), lazyConnect: true },
    );
    expect(cluster).toBeInstanceOf(Cluster);
    const { options } = cluster as Cluster;
    // ioredis takes the offline queue and the reconnect strategy at the cluster level ...
    expect(options.enableOfflineQueue).toBe(false);
    expect(options.clusterRetryStrategy?.(100)).toBe(2_000);
    // ... and the rest for each node connection
    expect(options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 5_000 });
    expect(options.redisOptions).not.toHaveProperty('enableOfflineQueue');
    expect(options.redisOptions).not.toHaveProperty('retryStrategy');
    cluster.disconnect();
  });

  it('gives worker node connections maxRetriesPerRequest null, where BullMQ looks for it on a cluster', () => {
    const options = clusterOptions(workerRedisOptions());
    expect(options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(options.enableOfflineQueue).toBeUndefined(); // ioredis's default: on
    expect(options.clusterRetryStrategy?.(100)).toBe(5_000);
  });

  it('applies the seed URL credentials and TLS to every node of a cluster', () => {
    const options = clusterOptions({}, 'rediss://app:p%40ss@10.0.0.1:7000');
    expect(options.redisOptions).toMatchObject({ username: 'app', password: 'p@ss', tls: {} });
    expect(clusterOptions({}, 'redis://127.0.0.1:7000').redisOptions).toEqual({});
  });

  it('duplicates either kind of client with changed options, keeping the kind', () => {
    const target = { redisMode: 'cluster' as const, redisNodes: ['redis://127.0.0.1:7100'] };
    const cluster = connect(target, { ...apiRedisOptions(), lazyConnect: true });
    const reader = duplicateConnection(cluster, { enableOfflineQueue: true, maxRetriesPerRequest: 2 });
    expect(reader).toBeInstanceOf(Cluster);
    expect((reader as Cluster).options.enableOfflineQueue).toBe(true);
    expect((reader as Cluster).options.redisOptions).toMatchObject({ maxRetriesPerRequest: 2, connectTimeout: 2_000 });
    const single = connect('redis://127.0.0.1:6390', { ...apiRedisOptions(), lazyConnect: true });
    const singleReader = duplicateConnection(single, { enableOfflineQueue: true });
    expect(singleReader).toBeInstanceOf(Redis);
    expect((singleReader as Redis).options).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    for (const client of [cluster, reader, single, singleReader]) client.disconnect();
  });
});
