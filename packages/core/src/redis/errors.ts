import { Cluster, type Redis } from 'ioredis';
import { AbortError, ParserError, RedisError, ReplyError } from 'redis-errors';

/**
 * Whether an error means "Redis cannot serve this now" (answer 503, retry
 * later) rather than a bug of ours, decided by the error's type, never by its
 * message text. ioredis builds its errors from redis-errors, the classes used
 * here (ioredis re-exports only ReplyError; its MaxRetriesPerRequestError is
 * an AbortError).
 */

/** Redis cannot serve a command now: unreachable, not answering in time, or refusing work until it recovers. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';

  constructor(message = 'Redis is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Redis error types (the first word of an error reply) that say the server
 * cannot do the work for now, and will again without any change of ours.
 */
const UNAVAILABLE_REPLIES = new Set([
  'CLUSTERDOWN', // a slot has no master, or the cluster is in the fail state
  'TRYAGAIN', // a multi-key command while its slot is being moved
  'LOADING', // the server is still loading its dataset
  'MASTERDOWN', // a replica that lost its master (replica-serve-stale-data no)
  'READONLY', // a write reached a replica, as during a failover
  'OOM', // maxmemory reached under noeviction: refuse new work rather than lose old
  'BUSY', // a script or function has run past busy-reply-threshold
  'NOREPLICAS', // fewer replicas than min-replicas-to-write
  'MISCONF', // writes stopped because background saving fails
]);

/** Node's codes for a network connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The client an error came from (a `Redis` or a `Cluster`), as far as classifying needs it. */
export interface RedisClientState {
  readonly status: string;
}

/** The Redis error type of an error reply: its first word (`OOM`, `CLUSTERDOWN`, `ERR`, ...). */
export function redisReplyCode(error: unknown): string | undefined {
  if (!(error instanceof ReplyError)) return undefined;
  return /^[A-Z][A-Z0-9_]*/.exec(error.message)?.[0];
}

/**
 * True when `error` means Redis cannot serve now:
 * - our own RedisUnavailableError (e.g. `withRedisTimeout`);
 * - an error reply whose type is one of UNAVAILABLE_REPLIES, or an EXECABORT
 *   whose queued commands were refused for such a reason (`previousErrors`);
 * - ioredis's connection-level errors: an AbortError (a command given up on:
 *   MaxRetriesPerRequestError, a pipeline cut by a lost connection) or another
 *   RedisError that is neither a reply nor a protocol parse error (a cluster
 *   that cannot refresh its slots or whose connection was discarded);
 * - a Node system error of a network connection (ECONNREFUSED, ...);
 * - a plain `Error`, which ioredis raises both for a connection it cannot use
 *   ("Connection is closed.", no offline queue, "Command timed out", ...) and
 *   for a misuse: when `client` is given and cannot serve (`redisCanServe`:
 *   not `ready`, or a cluster with a slot whose master it lost), it is the
 *   former. ioredis's own command timeout (`commandTimeout`) rejects with a
 *   plain Error while the client is `ready`; wait with `withRedisTimeout`, set
 *   shorter, where a stuck server must mean "unavailable".
 */
export function isRedisUnavailable(error: unknown, client?: RedisClientState): boolean {
  if (error instanceof RedisUnavailableError) return true;
  if (error instanceof ReplyError) {
    const code = redisReplyCode(error);
    if (code === 'EXECABORT') {
      const previous = (error as { previousErrors?: unknown }).previousErrors;
      return Array.isArray(previous) && previous.some((inner) => isRedisUnavailable(inner));
    }
    return code !== undefined && UNAVAILABLE_REPLIES.has(code);
  }
  if (error instanceof AbortError) return true;
  if (error instanceof RedisError) return !(error instanceof ParserError);
  if (error === null || typeof error !== 'object') return false;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return Object.getPrototypeOf(error) === Error.prototype && client !== undefined && !redisCanServe(client);
}

/**
 * Whether the client can send commands now: `ready`; a cluster also needs,
 * for every slot, a master whose connection is up, or not yet made (ioredis
 * connects to a node on its first command: `wait`) to a node not lost before
 * (`watchClusterNodes`: ioredis drops a lost node's connection, and makes a
 * fresh one in `wait` when the cluster still names the node).
 */
export function redisCanServe(client: RedisClientState): boolean {
  if (client.status !== 'ready') return false;
  if (!(client instanceof Cluster)) return true;
  const lost = lostNodes.get(client);
  const live = new Set<string>();
  for (const node of client.nodes('master')) {
    const key = nodeKey(node);
    if (node.status === 'ready' || (node.status === 'wait' && lost?.has(key) !== true)) live.add(key);
  }
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owner = client.slots[slot]?.[0];
    if (owner === undefined || !live.has(owner)) return false;
  }
  return true;
}

/** The nodes each watched cluster client lost, until a connection to them is ready again. */
const lostNodes = new WeakMap<Cluster, Set<string>>();

/** Keeps track of the nodes `cluster` loses, for `redisCanServe`; `connect()` does it for every cluster client. */
export function watchClusterNodes(cluster: Cluster): void {
  if (lostNodes.has(cluster)) return;
  const lost = new Set<string>();
  lostNodes.set(cluster, lost);
  cluster.on('-node', (node: Redis) => lost.add(nodeKey(node)));
  cluster.on('+node', (node: Redis) => node.once('ready', () => lost.delete(nodeKey(node))));
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

const CLUSTER_SLOTS = 16_384;

/**
 * `promise`, or a RedisUnavailableError once `ms` have passed without it
 * settling: a stuck or paused server then reads as unavailable, by type.
 */
export function withRedisTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
