import type { Logger } from 'pino';
import type { RedisClient } from './connection';

/**
 * What a process says while it cannot reach Redis. ioredis reconnects on its
 * own and reports every failed attempt as an `error` event, on every client
 * (and BullMQ passes them on from its queues and workers): logged as they
 * come, a missing Redis is a stream of the same warning several times a
 * second. Instead:
 *
 * - at startup, if Redis has not answered within `startupGraceMs`, one clear
 *   line: where the process looks for Redis and how to get one;
 * - when a Redis that answered goes away, its first connection error;
 * - while it stays away, at most one "still no Redis" line per `repeatMs`;
 * - when it answers after any of these, one line saying so.
 *
 * Other errors (a command Redis refused, a lost job lock) are logged as
 * before, each time. Nothing here stops the process: clients keep retrying.
 */

export interface RedisWatchOptions {
  /** How long a starting process waits for Redis before it says Redis is missing. Default 3 s. */
  startupGraceMs?: number;
  /** At most one "still no Redis" line this often. Default one minute. */
  repeatMs?: number;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
const CONNECTION_MESSAGES = [...CONNECTION_CODES, 'Connection is closed', 'None of startup nodes is available', 'Failed to refresh slots cache'];

/** An error that says Redis could not be reached, as opposed to an answer from Redis. */
export function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  return CONNECTION_MESSAGES.some((text) => error.message.includes(text));
}

/** `REDIS_URL` without its password, for logs. */
export function describeRedis(urls: readonly string[]): string {
  return urls
    .map((url) => {
      try {
        const parsed = new URL(url);
        if (parsed.password !== '') parsed.password = '***';
        return parsed.toString().replace(/\/$/, '');
      } catch {
        return url;
      }
    })
    .join(',');
}

export class RedisWatch {
  private state: 'starting' | 'up' | 'down' = 'starting';
  private answeredBefore = false;
  private lastError: string | null = null;
  private errorsSinceLine = 0;
  private lastLineAt = 0;
  private readonly startupTimer: NodeJS.Timeout;
  private readonly repeatMs: number;

  /**
   * `client`: the process's main connection, whose `ready` says Redis answers;
   * its `error` events are reported here as 'redis connection error'.
   * `where`: the Redis it looks for (describeRedis(config.redisNodes)).
   */
  constructor(
    client: RedisClient,
    private readonly logger: Logger,
    private readonly where: string,
    options: RedisWatchOptions = {},
  ) {
    this.repeatMs = options.repeatMs ?? 60_000;
    client.on('error', (error: Error) => this.report(error, 'redis connection error'));
    client.on('ready', () => this.answered());
    this.startupTimer = setTimeout(() => this.startupOver(), options.startupGraceMs ?? 3_000);
    this.startupTimer.unref();
    if (client.status === 'ready') this.answered();
  }

  /**
   * An `error` event of any client or BullMQ object of this process. A
   * connection error is logged as the rules above say; any other error is
   * logged at once as `what`.
   */
  report(error: Error, what: string): void {
    if (!isConnectionError(error)) {
      this.logger.warn({ err: error.message }, what);
      return;
    }
    this.lastError = error.message;
    if (this.state === 'starting') return; // the startup line will say it
    if (this.state === 'up') {
      this.state = 'down';
      this.line();
      this.logger.warn({ err: error.message }, what);
      return;
    }
    this.errorsSinceLine++;
    if (Date.now() - this.lastLineAt >= this.repeatMs) {
      const errors = this.errorsSinceLine;
      this.line();
      this.logger.warn({ err: error.message, errors }, `still no Redis at ${this.where}; retrying`);
    }
  }

  close(): void {
    clearTimeout(this.startupTimer);
  }

  private answered(): void {
    clearTimeout(this.startupTimer);
    if (this.state === 'down') this.logger.info(`Redis at ${this.where} answers${this.answeredBefore ? ' again' : ''}`);
    this.state = 'up';
    this.answeredBefore = true;
  }

  private startupOver(): void {
    if (this.state !== 'starting') return;
    this.state = 'down';
    this.line();
    this.logger.error(
      { err: this.lastError ?? undefined },
      `No Redis answers at ${this.where}. Start one (a local redis-server: apt install redis-server; or Docker: docker run -d -p 127.0.0.1:6379:6379 redis:7-alpine), set REDIS_URL, or run the whole stack with docker compose up; retrying quietly until it answers.`,
    );
  }

  private line(): void {
    this.lastLineAt = Date.now();
    this.errorsSinceLine = 0;
  }
}
