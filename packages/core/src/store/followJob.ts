import type { TerminalState } from '../model/job';
import { duplicateConnection, type RedisClient } from '../redis/connection';
import { jobKeys } from './keys';
import type { StoreContext } from './status';

/**
 * Where a follower stands in a job: inputs read so far, and the last message
 * entry read (kept as the store wrote it: jobs stored before message numbers
 * were used have time-based entry ids, which must not be read as numbers).
 */
export interface FollowPosition {
  items: number;
  messages: string;
}

/** The position of a follower that has read nothing yet. */
export const FOLLOW_START: FollowPosition = { items: 0, messages: '0-0' };

/** What one read of a follower brought: new inputs, new messages, and the end if it was reached. */
export interface FollowStep {
  items: string[];
  messages: string[];
  /** The job's end, once its messages stream records it (after its last input). */
  end: TerminalState | null;
  position: FollowPosition;
}

type Entries = Array<[string, string[]]>;

/**
 * Reads a job's inputs and messages as they are appended, with blocking
 * reads (XREAD BLOCK) on a connection of its own: a blocking read holds its
 * connection (on a cluster, a cluster client of its own: a job's two
 * streams share a slot). Each read takes at most `count` entries of each
 * stream, so a reader that stops asking holds no more than that.
 */
export class JobFollower {
  private readonly reader: RedisClient;

  /** `maxBlockMs`: the longest a read will wait; the connection's command timeout is set past it. */
  constructor(
    private readonly ctx: StoreContext,
    maxBlockMs: number,
  ) {
    // The API's connections time commands out after 5 s; a blocking read of 5 s would then fail
    // every time the job is quiet that long (a queued job): this connection allows the block.
    this.reader = duplicateConnection(ctx.redis, { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: maxBlockMs + 5_000 });
    this.reader.on('error', () => undefined); // a follower that loses Redis ends; its caller decides
  }

  /**
   * The entries after `from`, waiting up to `blockMs` for some (0: do not
   * wait). `withItems: false` reads only the messages stream.
   */
  async read(jobId: string, from: FollowPosition, options: { blockMs: number; count: number; withItems: boolean }): Promise<FollowStep> {
    const k = jobKeys(this.ctx.prefix, jobId);
    const streams = options.withItems ? [k.data, k.messages, `0-${from.items}`, from.messages] : [k.messages, from.messages];
    const block = options.blockMs > 0 ? ['BLOCK', options.blockMs] : [];
    const result = (await this.reader.xread('COUNT', options.count, ...(block as ['BLOCK', number]), 'STREAMS', ...streams)) as Array<[string, Entries]> | null;
    const step: FollowStep = { items: [], messages: [], end: null, position: { ...from } };
    for (const [key, entries] of result ?? []) {
      for (const [id, fields] of entries) {
        if (key === k.data) {
          step.items.push(fields[1] ?? '');
          step.position.items = Number(id.slice(id.indexOf('-') + 1));
        } else {
          step.position.messages = id;
          if (fields[0] === 'end') step.end = fields[1] as TerminalState;
          else if (step.end === null) step.messages.push(fields[1] ?? '');
        }
      }
    }
    return step;
  }

  close(): void {
    this.reader.disconnect();
  }
}
