import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RedisClient } from './connection';

/**
 * The one loader of our Lua scripts (the job store's and the rate
 * limiter's). Each script is a `.lua` file that opens with a header comment
 * naming its KEYS, its ARGV and what it returns, as BullMQ's commands do;
 * the loader reads the file once, takes the number of keys from the header,
 * and runs the script by SHA (EVALSHA), sending its text only when the server
 * does not have it yet (NOSCRIPT). On a Redis Cluster the client routes the
 * call by its keys, and the script is loaded on that node the same way.
 *
 * Structured arguments travel as one JSON ARGV that the script decodes with
 * cjson, so a field's name is written where it is used, not kept in step by
 * position in three places.
 */

export interface LuaScript {
  /** File name without `.lua`, for errors. */
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  readonly numberOfKeys: number;
}

/** A line `--- @include "includes/x"` (as in BullMQ's commands) stands for the text of `<dir>/includes/x.lua`. */
const INCLUDE = /^--- @include "([\w/]+)"$/gm;

/**
 * Reads `<dir>/<name>.lua`, its includes written in. The number of keys is
 * the highest `KEYS[n]` its header names.
 */
export function loadLuaScript(dir: string, name: string): LuaScript {
  const file = readFileSync(path.join(dir, `${name}.lua`), 'utf8');
  const lua = file.replace(INCLUDE, (_line, include: string) => readFileSync(path.join(dir, `${include}.lua`), 'utf8').trimEnd());
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(file)?.[1];
  if (header === undefined) throw new Error(`${name}.lua must open with a --[[ ... ]] header naming its KEYS, ARGV and return value`);
  if (!/ARGV/.test(header) || !/Returns?:/i.test(header)) throw new Error(`${name}.lua: the header must name ARGV and what it returns`);
  const keys = [...header.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex'), numberOfKeys: keys.length === 0 ? 0 : Math.max(...keys) };
}

/** Runs a script: EVALSHA, then EVAL once when the server has not seen it (a restart or another node). */
export async function runScript(redis: RedisClient, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) throw new Error(`${script.name}.lua takes ${script.numberOfKeys} keys, got ${keys.length}`);
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}
