import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, Redis, ReplyError as IoredisReplyError, type RedisOptions } from 'ioredis';
import { AbortError, ReplyError } from 'redis-errors';
import { connect, isRedisUnavailable, redisCanServe, redisReplyCode, RedisUnavailableError, withRedisTimeout } from '@datagen/core';

/**
 * The classifier on the errors ioredis really raises, against real
 * redis-server processes of the test's own (each on a free port, stopped
 * by its pid at the end): a port nobody listens on, a server killed under a
 * client, a paused one, a full one (a tiny maxmemory), a replica without its
 * master, a cluster node without slots, a server running a long script.
 */

interface RedisServer {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const servers = new Set<RedisServer>();
const clients = new Set<Redis | Cluster>();

afterEach(async () => {
  for (const client of clients) client.disconnect();
  clients.clear();
  await Promise.all([...servers].map((server) => server.stop()));
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of this test's own, in a directory of its own; stop() kills it by its pid and waits for it to exit. */
async function startRedis(...args: string[]): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'datagen-redis-errors-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', () => reject(new Error(`redis-server ${args.join(' ')} exited:\n${output}`)));
    child.once('error', reject);
  });
  const server: RedisServer = {
    port,
    child,
    async stop() {
      servers.delete(server);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
  servers.add(server);
  return server;
}

/** A client that gives up at once, as the API's does (no offline queue, one retry). */
function client(port: number, options: RedisOptions = {}): Redis {
  const redis = new Redis(port, '127.0.0.1', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
    ...options,
  });
  redis.on('error', () => undefined);
  clients.add(redis);
  return redis;
}

async function ready(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to fail');
}

it('uses the error classes ioredis throws', () => {
  expect(IoredisReplyError).toBe(ReplyError);
});

describe('a Redis that cannot be reached', () => {
  it('refused connections: the connection error, and a command without an offline queue', async () => {
    const port = await freePort(); // nobody listens there
    const redis = new Redis(port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    clients.add(redis);
    const connectionError = await new Promise<unknown>((resolve) => redis.once('error', resolve));
    expect(connectionError).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isRedisUnavailable(connectionError)).toBe(true);

    // A plain Error ("Stream isn't writeable ..."): unavailable by the state of the client it came from.
    const error = await rejection(redis.get('k'));
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(redis.status).not.toBe('ready');
    expect(isRedisUnavailable(error, redis)).toBe(true);
    expect(isRedisUnavailable(error)).toBe(false); // without the client, a plain Error may be a misuse
  });

  it('a command queued offline and given up after its retries: MaxRetriesPerRequestError, an AbortError', async () => {
    const redis = client(await freePort(), { enableOfflineQueue: true });
    const error = await rejection(redis.get('k'));
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).name).toBe('MaxRetriesPerRequestError');
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('a connection the server resets: ECONNRESET', async () => {
    const resetting: Server = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    try {
      const redis = new Redis((resetting.address() as AddressInfo).port, '127.0.0.1', { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      clients.add(redis);
      const error = await new Promise<unknown>((resolve) => redis.once('error', resolve));
      expect(error).toMatchObject({ code: 'ECONNRESET' });
      expect(isRedisUnavailable(error)).toBe(true);
    } finally {
      await new Promise((resolve) => resetting.close(resolve));
    }
  });

  it('a server killed under a ready client, and a client that was closed', async () => {
    const server = await startRedis();
    const redis = await ready(client(server.port));
    expect(redisCanServe(redis)).toBe(true);
    await server.stop();
    await new Promise((resolve) => redis.once('close', resolve));
    const error = await rejection(redis.get('k'));
    expect(isRedisUnavailable(error, redis)).toBe(true);

    redis.disconnect(); // status "end": "Connection is closed."
    const closed = await rejection(redis.get('k'));
    expect(Object.getPrototypeOf(closed)).toBe(Error.prototype);
    expect(isRedisUnavailable(closed, redis)).toBe(true);
  });
});

describe('a Redis that answers, but cannot do the work now', () => {
  it('a full server (maxmemory, noeviction): OOM, also inside a MULTI (EXECABORT)', async () => {
    const server = await startRedis('--maxmemory', '1', '--maxmemory-policy', 'noeviction');
    const redis = await ready(client(server.port));
    const error = await rejection(redis.set('k', 'v'));
    expect(error).toBeInstanceOf(ReplyError);
    expect(redisReplyCode(error)).toBe('OOM');
    expect(isRedisUnavailable(error)).toBe(true);
    expect(await redis.get('k')).toBeNull(); // reads still work

    const aborted = await rejection(redis.multi().set('k', 'v').exec());
    expect(redisReplyCode(aborted)).toBe('EXECABORT');
    expect((aborted as { previousErrors: unknown[] }).previousErrors.map(redisReplyCode)).toEqual(['OOM']);
    expect(isRedisUnavailable(aborted)).toBe(true);
  });

  it('a paused server: our own timeout says unavailable by type; ioredis\'s commandTimeout error comes from a ready client', async () => {
    const server = await startRedis();
    const admin = await ready(client(server.port));
    const redis = await ready(client(server.port, { commandTimeout: 200 }));
    // Writes wait until the pause ends (the admin's CLIENT UNPAUSE, not a write, is still served).
    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    try {
      const timedOut = await rejection(withRedisTimeout(redis.set('k', 'v'), 100));
      expect(timedOut).toBeInstanceOf(RedisUnavailableError);
      expect(isRedisUnavailable(timedOut)).toBe(true);

      const ioredisTimeout = await rejection(redis.set('k', 'v'));
      expect(Object.getPrototypeOf(ioredisTimeout)).toBe(Error.prototype);
      expect(redis.status).toBe('ready');
      expect(isRedisUnavailable(ioredisTimeout, redis)).toBe(false); // why the API waits with withRedisTimeout, shorter
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
    }
    expect(await redis.set('k', 'w')).toBe('OK');
  });

  it('a replica that lost its master: MASTERDOWN for reads, READONLY for writes', async () => {
    const server = await startRedis('--replicaof', '127.0.0.1', String(await freePort()), '--replica-serve-stale-data', 'no');
    const redis = await ready(client(server.port));
    const read = await rejection(redis.get('k'));
    expect(redisReplyCode(read)).toBe('MASTERDOWN');
    expect(isRedisUnavailable(read)).toBe(true);
    const write = await rejection(redis.set('k', 'v'));
    expect(redisReplyCode(write)).toBe('READONLY');
    expect(isRedisUnavailable(write)).toBe(true);
  });

  it('a master with fewer replicas than min-replicas-to-write: NOREPLICAS', async () => {
    const server = await startRedis('--min-replicas-to-write', '1');
    const redis = await ready(client(server.port));
    const error = await rejection(redis.set('k', 'v'));
    expect(redisReplyCode(error)).toBe('NOREPLICAS');
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it('a server running a long script: BUSY', async () => {
    const server = await startRedis('--busy-reply-threshold', '50');
    const scripter = await ready(client(server.port));
    const redis = await ready(client(server.port));
    const admin = await ready(client(server.port));
    const script = scripter.eval('while true do end', 0).catch((error: unknown) => error);
    // Until the script has run past the threshold the GET waits or (sent before the script) answers.
    let busy: unknown;
    while (busy === undefined) busy = await redis.get('k').then(() => undefined, (error: unknown) => error);
    expect(redisReplyCode(busy)).toBe('BUSY');
    expect(isRedisUnavailable(busy)).toBe(true);
    await admin.call('SCRIPT', 'KILL');
    expect(redisReplyCode(await script)).toBe('ERR'); // "ERR ... Script killed by user": ours, not an outage
    expect(isRedisUnavailable(await script)).toBe(false);
  });

  it('a cluster node whose slots are gone: CLUSTERDOWN, and a cluster client with no master to send to', async () => {
    const server = await startRedis('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1');
    const admin = await ready(client(server.port));
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    while (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) await new Promise((r) => setTimeout(r, 50));

    const cluster = new Cluster([{ host: '127.0.0.1', port: server.port }], { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } });
    cluster.on('error', () => undefined);
    clients.add(cluster);
    await new Promise((resolve) => cluster.once('ready', resolve));
    expect(await cluster.set('k', 'v')).toBe('OK');
    expect(redisCanServe(cluster)).toBe(true);

    await admin.call('CLUSTER', 'DELSLOTSRANGE', '0', '16383');
    const direct = await rejection(admin.get('k'));
    expect(redisReplyCode(direct)).toBe('CLUSTERDOWN');
    expect(isRedisUnavailable(direct)).toBe(true);

    // ioredis follows the CLUSTERDOWN, finds no node for the slot, and rejects with a plain Error
    // while the cluster client still says "ready": it knows no master any more.
    const error = await rejection(cluster.get('k'));
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(isRedisUnavailable(error, cluster)).toBe(true);
  });

  it('a cluster that lost a master: the client gives up on redirections while "ready", with a slot on a lost node', async () => {
    const clusterNode = (...args: string[]) =>
      startRedis('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1', '--cluster-node-timeout', '500', ...args);
    const [a, b] = await Promise.all([clusterNode(), clusterNode()]);
    const [adminA, adminB] = await Promise.all([ready(client(a.port)), ready(client(b.port))]);
    await adminA.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
    await adminB.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
    await adminA.call('CLUSTER', 'MEET', '127.0.0.1', String(b.port));
    const ok = async (admin: Redis) => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
    while (!(await ok(adminA)) || !(await ok(adminB))) await new Promise((r) => setTimeout(r, 50));

    // As the API connects: connect() watches the nodes the cluster client loses.
    const cluster = connect({ redisMode: 'cluster', redisNodes: [`redis://127.0.0.1:${a.port}`] }, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) as Cluster;
    cluster.on('error', () => undefined);
    clients.add(cluster);
    await new Promise((resolve) => cluster.once('ready', resolve));
    let keyOnB = 'k0';
    for (let i = 1; Number(await adminA.call('CLUSTER', 'KEYSLOT', keyOnB)) < 8192; i++) keyOnB = `k${i}`;
    expect(await cluster.set(keyOnB, 'v')).toBe('OK');
    expect(redisCanServe(cluster)).toBe(true);

    await b.stop();
    // ioredis follows CLUSTERDOWN and MOVED to the lost node until it gives up, with a plain Error.
    const error = await rejection(cluster.get(keyOnB));
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(cluster.status).toBe('ready');
    expect(isRedisUnavailable(error, cluster)).toBe(true);

    // The surviving node still names the lost one for its slots, so a refresh of the slots makes
    // a fresh connection to it, unconnected ("wait") like one never used: known lost all the same.
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    expect(cluster.nodes('master').find((node) => node.options.port === b.port)?.status).toBe('wait');
    expect(redisCanServe(cluster)).toBe(false);
    expect(isRedisUnavailable(error, cluster)).toBe(true);
  });

  it.each(['LOADING', 'TRYAGAIN', 'MISCONF'])('%s (replies a test cannot cheaply make a server send; made as ioredis parses them)', (code) => {
    expect(isRedisUnavailable(new IoredisReplyError(`${code} the server cannot do this now`))).toBe(true);
  });
});

describe('errors that are ours, not an outage', () => {
  it('error replies to a wrong command, from a ready server', async () => {
    const server = await startRedis();
    const redis = await ready(client(server.port));
    await redis.set('s', 'v');
    for (const promise of [redis.lpush('s', 'x'), redis.call('NOSUCHCOMMAND'), redis.call('GET')]) {
      const error = await rejection(promise);
      expect(error).toBeInstanceOf(ReplyError);
      expect(isRedisUnavailable(error, redis)).toBe(false);
    }
    expect(redisReplyCode(await rejection(redis.lpush('s', 'x')))).toBe('WRONGTYPE');

    // A MULTI that Redis discards for a command of ours it refused is no outage either.
    const aborted = await rejection(redis.multi().call('GET').get('s').exec());
    expect(redisReplyCode(aborted)).toBe('EXECABORT');
    expect((aborted as { previousErrors: unknown[] }).previousErrors.map(redisReplyCode)).toEqual(['ERR']);
    expect(isRedisUnavailable(aborted, redis)).toBe(false);
  });

  it("ioredis's plain Error for a misuse, from a ready client", async () => {
    const server = await startRedis();
    const redis = await ready(client(server.port));
    await redis.subscribe('channel');
    const error = await rejection(redis.get('k')); // "Connection in subscriber mode ..."
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(redis.status).toBe('ready');
    expect(isRedisUnavailable(error, redis)).toBe(false);
  });

  it('anything else', () => {
    for (const value of [new TypeError('x is undefined'), new RangeError('r'), null, undefined, 'ECONNREFUSED', { code: 42 }]) {
      expect(isRedisUnavailable(value)).toBe(false);
    }
    expect(isRedisUnavailable(new TypeError('x'), { status: 'reconnecting' })).toBe(false); // a bug of ours while Redis is away
  });
});
