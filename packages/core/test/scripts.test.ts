import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLuaScript } from '../src/redis/scripts';

/** The Lua loader: headers, key counts, and includes written in where a script names them. */

it('writes an included file in place of its @include line, and counts keys from the header only', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lua-'));
  mkdirSync(path.join(dir, 'includes'));
  writeFileSync(path.join(dir, 'includes', 'twice.lua'), 'local function twice(x) return 2 * x end\n');
  writeFileSync(path.join(dir, 'main.lua'), '--[[\n  KEYS[1] a key\n  ARGV[1] a number\n  Returns: twice it\n]]\n--- @include "includes/twice"\nreturn twice(tonumber(ARGV[1]))\n');
  const script = loadLuaScript(dir, 'main');
  expect(script.lua).toBe('--[[\n  KEYS[1] a key\n  ARGV[1] a number\n  Returns: twice it\n]]\nlocal function twice(x) return 2 * x end\nreturn twice(tonumber(ARGV[1]))\n');
  expect(script.numberOfKeys).toBe(1);
});

it("leaves no @include line in the job store's scripts", () => {
  const dir = path.join(__dirname, '../src/store/lua');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
    expect(loadLuaScript(dir, file.slice(0, -'.lua'.length)).lua).not.toContain('@include');
  }
});
