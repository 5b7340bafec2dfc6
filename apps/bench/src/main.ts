import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeMachine, load, setUpRedis, stopAllChildren } from './env';
import { writeReport } from './report';
import { dedupSection } from './sections/dedup';
import { economySection, ECONOMY_DEFAULTS } from './sections/economy';
import { apiSection } from './sections/api';
import { engineSection, ENGINE_DEFAULTS } from './sections/engine';
import { fairnessSection, FAIRNESS_DEFAULTS } from './sections/fairness';
import { memorySection, MEMORY_DEFAULTS } from './sections/memory';
import { scaleOutSection, SCALE_OUT_DEFAULTS } from './sections/scaleOut';
import { timeToNSection, TIME_TO_N_DEFAULTS } from './sections/timeToN';
import { renderTable, type SectionResult } from './table';

/**
 * `npm run bench`: every benchmark of the service, one table, and
 * docs/benchmarks.md. `npm run bench -- --only api` (or a comma-separated
 * list) runs some sections and prints their table; it writes the report only
 * with `--out FILE`. Redis: REDIS_URL, else a redis-server of its own.
 */

export const SECTIONS = ['dedup', 'time-to-n', 'engine', 'api', 'scale-out', 'memory', 'fairness', 'economy'] as const;
type SectionName = (typeof SECTIONS)[number];

const USAGE = `usage: node apps/bench/dist/main.js [--only ${SECTIONS.join('|')}[,...]] [--out FILE]
  --only   run these sections only (default: all)
  --out    write the report to FILE (default: docs/benchmarks.md for a full run, none for --only)
env: REDIS_URL (else a redis-server is started on a free loopback port and stopped at the end)`;

interface Args {
  only: SectionName[];
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  let only: SectionName[] = [...SECTIONS];
  let out: string | null | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--only')) {
      const names = value().split(',').map((s) => s.trim());
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
      if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(', ')}\n${USAGE}`);
      only = SECTIONS.filter((s) => names.includes(s));
    } else if (arg.startsWith('--out')) {
      out = value();
    } else {
      throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  const full = only.length === SECTIONS.length;
  const root = path.resolve(__dirname, '../../..');
  if (out === undefined) return { only, out: full ? path.join(root, 'docs', 'benchmarks.md') : null };
  return { only, out: out === null ? null : path.resolve(out) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const startedAt = new Date();
  const loadBefore = load();
  const redis = await setUpRedis();
  const machine = describeMachine(redis.version);
  console.log(`datagen benchmarks: ${args.only.join(', ')}`);
  console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}, Redis ${machine.redis} (${redis.own ? 'own redis-server, no persistence' : 'REDIS_URL'}), load ${loadBefore}`);
  const results: SectionResult[] = [];
  try {
    for (const name of args.only) {
      const t = performance.now();
      console.log(`\n- ${name} ...`);
      const result = await run(name, redis.url);
      results.push(result);
      for (const row of result.rows) console.log(`  ${row.measure}: ${row.value}${row.ratio ? ` (${row.ratio})` : ''}${row.met === false ? '  << target missed' : ''}`);
      console.log(`  (${((performance.now() - t) / 1000).toFixed(0)} s, load ${load()})`);
    }
  } finally {
    await stopAllChildren();
    await redis.close();
  }
  const rows = results.flatMap((r) => r.rows);
  console.log('');
  console.log(renderTable(rows));
  console.log('');
  for (const result of results) for (const note of result.notes) console.log(`- ${note}`);
  const totalSeconds = (performance.now() - began) / 1000;
  console.log(`\ntotal ${totalSeconds.toFixed(0)} s, load ${loadBefore} -> ${load()}`);
  if (args.out !== null) {
    writeFileSync(
      args.out,
      writeReport({ machine, results, startedAt, totalSeconds, loadBefore, loadAfter: load(), redisOwn: redis.own, sections: args.only, full: args.only.length === SECTIONS.length }),
    );
    console.log(`wrote ${path.relative(process.cwd(), args.out) || args.out}`);
  }
}

function run(name: SectionName, redisUrl: string): Promise<SectionResult> {
  switch (name) {
    case 'dedup':
      return dedupSection();
    case 'time-to-n':
      return timeToNSection({ redisUrl, ...TIME_TO_N_DEFAULTS });
    case 'engine':
      return engineSection({ redisUrl, ...ENGINE_DEFAULTS });
    case 'api':
      return apiSection({ redisUrl });
    case 'scale-out':
      return scaleOutSection({ redisUrl, ...SCALE_OUT_DEFAULTS });
    case 'memory':
      return memorySection({ redisUrl, ...MEMORY_DEFAULTS });
    case 'fairness':
      return fairnessSection({ redisUrl, ...FAIRNESS_DEFAULTS });
    case 'economy':
      return economySection({ redisUrl, ...ECONOMY_DEFAULTS });
  }
}

// Children and the own redis-server are stopped on every way out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    void stopAllChildren().finally(() => process.exit(130));
  });
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  await stopAllChildren();
  process.exit(1);
});
