import path from 'node:path';
import type { RedisClient } from '../redis/connection';
import { loadLuaScript, type LuaScript } from '../redis/scripts';

/**
 * What every store operation shares: the connection, the key prefix, the
 * retention, the scripts' folder and the status codes they answer with.
 */

export interface StoreContext {
  redis: RedisClient;
  /** KEY_PREFIX. */
  prefix: string;
  /** How long a job's keys live after their last write (JOB_RETENTION_HOURS). */
  retentionMs: number;
}

/** Progress messages kept per job; older ones are trimmed. */
export const MAX_MESSAGES = 1000;

/** Rejected candidates kept per job, the newest (about: trimmed in whole stream nodes); the report counts them all. */
export const MAX_REJECTED = 2000;

/** The status codes the Lua scripts answer with (each script's header says which). */
export const ScriptStatus = {
  OK: 1,
  ENDED: 2,
  MISSING: 3,
  NOT_OWNER: 4,
  OUT_OF_PLACE: 5,
  INCOMPLETE: 6,
  CANCEL_REQUESTED: 7,
  OVER_OPEN: 8,
  OVER_INPUTS: 9,
  OVER_RATE: 10,
  FULL: 11,
  STALLED_OUT: 12,
} as const;

const LUA_DIR = path.join(__dirname, 'lua');

/** A script of the job store's, from `store/lua/<name>.lua`. */
export function storeScript(name: string): LuaScript {
  return loadLuaScript(LUA_DIR, name);
}

/** Another writer got to this job first (a second worker after a stall), or the job already ended. */
export class JobOwnershipLostError extends Error {
  override readonly name = 'JobOwnershipLostError';
  constructor(
    message: string,
    /** `ended`: the job is over, stop quietly. `conflict`: another run owns it; this one stops and BullMQ decides. */
    readonly reason: 'ended' | 'conflict',
  ) {
    super(message);
  }
}

/** The error for a run's write that a script refused. */
export function ownershipError(jobId: string, status: number): JobOwnershipLostError {
  if (status === ScriptStatus.ENDED || status === ScriptStatus.MISSING) return new JobOwnershipLostError(`job ${jobId} has already ended`, 'ended');
  if (status === ScriptStatus.NOT_OWNER) return new JobOwnershipLostError(`job ${jobId} was claimed by another run`, 'conflict');
  return new JobOwnershipLostError(`job ${jobId}'s data is not where this run left it`, 'conflict');
}
