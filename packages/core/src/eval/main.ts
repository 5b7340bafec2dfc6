/**
 * `npm run eval`: runs every exploration mode on the fixed applications of
 * applications.ts, prints the per-mode table and writes docs/quality.md.
 *
 * The provider is the service's own choice (createProvider(loadConfig().llm)):
 * Claude when ANTHROPIC_API_KEY is set, an OpenAI-compatible server with
 * LLM_PROVIDER=openai, else the offline generator, which is then seeded per
 * run from EVAL_SEED so the whole evaluation is reproducible.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { seedFromString } from '../engine/random';
import { createProvider } from '../llm/index';
import { OfflineGenerator } from '../llm/offline/index';
import type { LlmProvider } from '../llm/provider';
import { EXPLORATION_MODES, type ExplorationMode } from '../model/job';
import { EVAL_APPLICATIONS } from './applications';
import { failedRuns, formatChangeTable, formatModeTable, renderQualityDoc, verdict } from './report';
import { runEval } from './runEval';

const DEFAULT_N_OFFLINE = 200;
/** With a real LLM every input costs money: 30 per application and mode is 600 inputs, 120 calls or more. */
const DEFAULT_N_LLM = 30;
/** From packages/core/dist/eval to the repository root. */
const DEFAULT_OUT = path.resolve(__dirname, '../../../../docs/quality.md');

const USAGE = `Usage: npm run eval [-- options]    (or node packages/core/dist/eval/main.js [options])

Runs the four exploration modes on fixed application descriptions and reports diversity,
rejections and cost per mode; writes docs/quality.md.

  --n N             inputs per application and mode   EVAL_N       (${DEFAULT_N_OFFLINE} offline, ${DEFAULT_N_LLM} with an LLM)
  --apps a,b        application ids                   EVAL_APPS    (${EVAL_APPLICATIONS.map((a) => a.id).join(',')})
  --modes M,N       exploration modes                 EVAL_MODES   (${EXPLORATION_MODES.join(',')})
  --seed S          seed of the run                   EVAL_SEED    (1)
  --out PATH        report file, '-' for none         EVAL_OUT     (docs/quality.md)
  --concurrency C   runs at once                      EVAL_CONCURRENCY (1 offline, 4 with an LLM)

The provider follows the service's configuration: ANTHROPIC_API_KEY set means Claude
(ANTHROPIC_MODEL), LLM_PROVIDER=openai an OpenAI-compatible server, else the offline generator.`;

class UsageError extends Error {}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, not '${value}'`);
  return n;
}

function listOf(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      apps: { type: 'string' },
      modes: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const env = process.env;
  const setting = (flag: string | undefined, variable: string) => flag ?? (env[variable]?.trim() || undefined);

  const config = loadConfig();
  const isOffline = config.llm.provider === 'offline';

  const nText = setting(values.n, 'EVAL_N');
  const n = nText === undefined ? (isOffline ? DEFAULT_N_OFFLINE : DEFAULT_N_LLM) : positiveInt('EVAL_N', nText);
  const seedText = setting(values.seed, 'EVAL_SEED');
  const seed = seedText === undefined ? 1 : Number(seedText);
  if (!Number.isInteger(seed)) throw new UsageError(`EVAL_SEED must be an integer, not '${seedText}'`);
  const concurrencyText = setting(values.concurrency, 'EVAL_CONCURRENCY');
  const concurrency = concurrencyText === undefined ? (isOffline ? 1 : 4) : positiveInt('EVAL_CONCURRENCY', concurrencyText);

  const appsText = setting(values.apps, 'EVAL_APPS');
  const applications =
    appsText === undefined
      ? [...EVAL_APPLICATIONS]
      : listOf(appsText).map((id) => {
          const app = EVAL_APPLICATIONS.find((a) => a.id === id);
          if (app === undefined) throw new UsageError(`unknown application '${id}'; known: ${EVAL_APPLICATIONS.map((a) => a.id).join(', ')}`);
          return app;
        });
  const modesText = setting(values.modes, 'EVAL_MODES');
  const modes: ExplorationMode[] =
    modesText === undefined
      ? [...EXPLORATION_MODES]
      : listOf(modesText).map((m) => {
          const mode = EXPLORATION_MODES.find((known) => known === m.toUpperCase());
          if (mode === undefined) throw new UsageError(`unknown exploration mode '${m}'; known: ${EXPLORATION_MODES.join(', ')}`);
          return mode;
        });
  const outText = setting(values.out, 'EVAL_OUT');
  const out = outText === undefined ? DEFAULT_OUT : outText === '-' ? null : path.resolve(outText);

  // One provider for an LLM (its client and connection pool are shared);
  // a seeded offline generator per run, so each run is reproducible on its own.
  const shared: LlmProvider | null = isOffline ? null : createProvider(config.llm);
  const providerFor = (app: { id: string }, mode: ExplorationMode): LlmProvider =>
    shared ?? new OfflineGenerator({ seed: seedFromString(`offline:${seed}:${app.id}:${mode}`) });
  const endpoint = config.llm.provider === 'offline' ? undefined : config.llm.baseURL;
  const providerName = `${shared?.name ?? new OfflineGenerator({ seed: 0 }).name}${endpoint === undefined ? '' : ` at ${endpoint}`}`;

  const runs = applications.length * modes.length;
  if (shared !== null) {
    console.error(
      `Evaluating with ${providerName}: this makes real, billed LLM calls: ${runs} runs of N=${n} ` +
        `(${runs * n} inputs, at least ${Math.ceil((runs * n) / 5)} calls). Set EVAL_N to change N.`,
    );
  } else {
    console.error(`Evaluating with the ${providerName} (no LLM, no network; set ANTHROPIC_API_KEY to evaluate Claude): ${runs} runs of N=${n}, seed ${seed}.`);
  }

  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.error('Interrupted: cancelling the runs in flight.');
    controller.abort();
  });

  const result = await runEval({
    n,
    applications,
    modes,
    seed,
    providerFor,
    concurrency,
    signal: controller.signal,
    engine: {
      maxParallelBatches: config.job.maxParallelBatches,
      maxBarrenBatches: config.job.maxBarrenBatches,
      maxFailedCalls: config.job.maxFailedCalls,
      themes: true,
      critic: config.job.critic,
    },
    onRun: (run) =>
      console.error(
        `  ${run.application.padEnd(12)} ${run.mode.padEnd(12)} ${run.outcome.state.padEnd(9)} ${run.accepted.length}/${n} accepted, ` +
          `${run.calls} calls, ${(run.durationMs / 1000).toFixed(1)} s${run.outcome.state === 'DONE' ? '' : `: ${run.outcome.message}`}`,
      ),
  });
  if (controller.signal.aborted) return 130;

  console.log(`\nPer mode, over ${result.applications.length} applications (N=${n} each), with ${providerName}:\n`);
  console.log(formatModeTable(result));
  console.log('');
  console.log(formatChangeTable(result));
  console.log('');
  for (const line of verdict(result)) console.log(`- ${line}`);

  if (out !== null) {
    const settings = [
      nText !== undefined ? `EVAL_N=${n}` : '',
      appsText !== undefined ? `EVAL_APPS=${applications.map((a) => a.id).join(',')}` : '',
      modesText !== undefined ? `EVAL_MODES=${modes.join(',')}` : '',
      seedText !== undefined ? `EVAL_SEED=${seed}` : '',
    ].filter((s) => s !== '');
    const cpus = os.cpus();
    writeFileSync(
      out,
      renderQualityDoc(result, {
        provider: providerName,
        isLlm: shared?.isLlm ?? false,
        date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        machine: `${os.type()} ${os.release()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
        node: process.versions.node,
        command: [...settings, 'npm run eval'].join(' '),
      }),
    );
    const shown = path.relative(process.cwd(), out);
    console.error(`\nWrote ${shown.startsWith('..') ? out : shown}.`);
  }
  return failedRuns(result).length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(error);
    process.exitCode = 1;
  },
);
