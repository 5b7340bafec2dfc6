'use strict';
/* global fetch, setTimeout */ // Node globals the shared ESLint config does not list for .js files
/**
 * `npm run chaos`: the whole service under faults, as real processes.
 *
 * Starts a fake Anthropic API that injects faults (429, 529, 500, connection
 * resets, truncated, refused and malformed answers) with varied latency, the
 * compiled API and K workers as child processes on a namespace of their own,
 * submits M jobs of varied size and mode through the HTTP API, and meanwhile
 * kills workers (mostly SIGKILL, some SIGTERM) and starts new ones, and
 * cancels a few jobs. When every job has ended it checks each one:
 *
 *   - DONE jobs hold exactly N inputs;
 *   - no job holds a duplicate (after the service's own normalizeText), nor a seed;
 *   - nothing is lost: the data read at the end extends every snapshot taken during the run;
 *   - cancelled jobs keep their partial data; every ended job has its end recorded;
 *
 * and prints one summary table, with the worst cancel latency (DELETE until
 * GET says CANCELLED). Exits 1 when a check fails, 2 when the run itself broke.
 *
 * Options (flag or environment): --workers / CHAOS_WORKERS (3), --jobs /
 * CHAOS_JOBS (12), --seconds / CHAOS_SECONDS (60: the chaos phase; the run
 * then waits for the jobs to end), --seed / CHAOS_SEED (random, printed).
 * REDIS_URL (default redis://127.0.0.1:6379) names the Redis to use.
 *
 * Plain CommonJS over the compiled packages: `npm run chaos` builds first.
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { Redis } = require('ioredis');
const { deleteNamespace, normalizeText, seededRandom } = require('@datagen/core');
const { startFakeAnthropic } = require('@datagen/core/testing');

const ROOT = path.resolve(__dirname, '..');
const API_MAIN = path.join(ROOT, 'apps/api/dist/main.js');
const WORKER_MAIN = path.join(ROOT, 'apps/worker/dist/main.js');
const API_KEY = 'chaos-key';
const FAKE_KEY = 'chaos-llm-key';
const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELLED']);

/** Small rates of each fault the fake injects; the SDK's retries and the engine's must absorb them. */
const FAULT_RATES = {
  rate_limit: 0.03,
  overloaded: 0.02,
  server_error: 0.02,
  connection_reset: 0.02,
  truncated: 0.02,
  refusal: 0.02,
  malformed_json: 0.02,
};

const DESCRIPTIONS = [
  "Write a children's story communicating a simple life lesson.",
  'A support assistant for a bicycle repair shop answers customer questions.',
  'Summarise legal documents for small business owners in plain language.',
  'A cooking assistant suggests recipes from what is left in the fridge.',
];
const SEEDS = [
  'Write a story about a brave little turtle who learns to share.',
  'Tell me a bedtime story about a dragon who is afraid of the dark.',
  'My gears skip when I climb hills. What should I check first?',
  'Can you explain what an indemnity clause means for my bakery?',
  'I have leeks, eggs and stale bread. What can I cook tonight?',
  'How often should I replace the chain on a commuter bike?',
];
const MODES = ['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS'];

// ---------------------------------------------------------------------------
// Options

function readOptions(argv, env) {
  const flags = {};
  for (const arg of argv) {
    const match = /^--([a-z]+)=(.*)$/.exec(arg);
    if (match === null) throw new Error(`unknown argument ${arg} (use --workers=N --jobs=N --seconds=N --seed=N)`);
    flags[match[1]] = match[2];
  }
  const integer = (name, envName, fallback, min) => {
    const raw = flags[name] ?? env[envName];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} / ${envName} must be an integer >= ${min}, not ${raw}`);
    return value;
  };
  for (const name of Object.keys(flags)) {
    if (!['workers', 'jobs', 'seconds', 'seed'].includes(name)) throw new Error(`unknown option --${name}`);
  }
  return {
    workers: integer('workers', 'CHAOS_WORKERS', 3, 1),
    jobs: integer('jobs', 'CHAOS_JOBS', 12, 1),
    seconds: integer('seconds', 'CHAOS_SECONDS', 60, 5),
    seed: integer('seed', 'CHAOS_SEED', crypto.randomInt(1, 2 ** 31), 0),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  };
}

// ---------------------------------------------------------------------------
// Child processes

/** Every child still running, so an exit of this script (even a crash) takes them along. */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A compiled app as a child process; its output goes to a log file, the last lines are kept for reports. */
class Child {
  constructor(name, script, env, logDir) {
    this.name = name;
    this.tail = [];
    this.exitStatus = null;
    this.log = fs.createWriteStream(path.join(logDir, `${name}.log`));
    this.child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this.child);
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
    const keep = (line) => {
      this.log.write(`${line}\n`);
      this.tail.push(line);
      if (this.tail.length > 40) this.tail.shift();
    };
    readline.createInterface({ input: this.child.stdout }).on('line', keep);
    readline.createInterface({ input: this.child.stderr }).on('line', (line) => keep(`[stderr] ${line}`));
  }

  get running() {
    return this.exitStatus === null;
  }

  kill(signal) {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not left after `graceMs`. */
  async stop(graceMs) {
    this.kill('SIGTERM');
    const left = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!left) this.kill('SIGKILL');
    await this.exited;
    await new Promise((resolve) => this.log.end(resolve));
  }

  async waitForLine(match, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (!this.tail.some(match)) {
      if (!this.running) throw new Error(`${this.name} exited before ${what}:\n${this.tail.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms:\n${this.tail.join('\n')}`);
      await sleep(20);
    }
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------
// The run

async function main() {
  const options = readOptions(process.argv.slice(2), process.env);
  const random = seededRandom(options.seed);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const between = (min, max) => min + Math.floor(random() * (max - min + 1));
  const namespace = `chaos${crypto.randomBytes(4).toString('hex')}`;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'datagen-chaos-'));
  const started = Date.now();
  const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
  const say = (text) => console.log(`[chaos ${elapsed().padStart(5)} s] ${text}`);
  say(`seed ${options.seed}, ${options.workers} workers, ${options.jobs} jobs, ${options.seconds} s of chaos, namespace ${namespace}, logs in ${logDir}`);

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  await redis.ping();

  const latencyRandom = seededRandom(options.seed ^ 0x1a7e);
  const fake = await startFakeAnthropic({
    apiKey: FAKE_KEY,
    seed: options.seed,
    faultRates: FAULT_RATES,
    latencyMs: () => 100 + Math.floor(latencyRandom() * 800),
  });

  const baseEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    REDIS_MODE: 'standalone',
    QUEUE_NAME: namespace,
    KEY_PREFIX: namespace,
    API_KEYS: API_KEY,
    LLM_PROVIDER: 'anthropic',
    ANTHROPIC_API_KEY: FAKE_KEY,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_MODEL: 'claude-chaos',
    ANTHROPIC_MAX_RETRIES: '2',
    ANTHROPIC_TIMEOUT_MS: '20000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    WORKER_SHUTDOWN_GRACE_MS: '3000',
    METRICS_PORT: '0', // several workers on one host; and no listening beyond loopback
    LOG_LEVEL: 'info',
  };

  const children = [];
  const workers = [];
  let workerCount = 0;
  const kills = { SIGKILL: 0, SIGTERM: 0 };
  /** Set when the chaos phase ends, and when the run stops (also on failure): no more kills or new workers. */
  let chaosOver = false;
  let stopping = false;
  const startWorker = async () => {
    if (stopping) throw new Error('the run is stopping');
    const worker = new Child(`worker-${++workerCount}`, WORKER_MAIN, baseEnv, logDir);
    children.push(worker);
    await worker.waitForLine((line) => line.includes('"msg":"worker started"'), 20_000, "'worker started'");
    workers.push(worker);
    return worker;
  };

  const jobs = [];
  let failure = null;
  // Ctrl-C (or a SIGTERM) ends the run through the same cleanup as a failure;
  // a second signal must not cut that cleanup short, so the handlers stay.
  const interrupted = new Promise((_resolve, reject) => {
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => reject(new Error(`interrupted by ${signal}`)));
  });
  interrupted.catch(() => undefined);
  try {
    const port = await freePort();
    const api = new Child('api', API_MAIN, { ...baseEnv, PORT: String(port), LOG_LEVEL: 'warn' }, logDir);
    children.push(api);
    const apiUrl = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${apiUrl}/readyz`).catch(() => null))?.status === 200, 20_000, 'the API to be ready', () => {
      if (!api.running) throw new Error(`the API exited:\n${api.tail.join('\n')}`);
    });
    for (let i = 0; i < options.workers; i++) await startWorker();
    say(`API on ${apiUrl}, ${options.workers} workers up`);

    const http = async (method, route, body) => {
      const res = await fetch(`${apiUrl}/v1/data/generate${route}`, {
        method,
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    };

    // The plan, drawn up front from the seed: the jobs, when each is submitted, which are cancelled.
    const chaosMs = options.seconds * 1000;
    for (let i = 0; i < options.jobs; i++) {
      const batchSize = between(1, 10);
      const seedless = random() < 0.2;
      const request = {
        application_description: pick(DESCRIPTIONS),
        num_inputs_to_generate: Math.min(250, between(5, 30 * batchSize)),
        seeds: seedless ? [] : shuffle(SEEDS, random).slice(0, between(1, 4)),
        batch_size: batchSize,
        num_shots: between(1, 10),
        exploration_mode: pick(MODES),
      };
      const submitAt = Math.floor(random() * chaosMs * 0.5);
      jobs.push({ index: i, request, submitAt, cancelShare: null, id: null, snapshots: [], final: null, cancel: null, record: null });
    }
    // A few jobs are cancelled once they hold a share of their inputs (0: as soon as they are queued).
    const cancelCount = Math.max(1, Math.round(options.jobs / 6));
    for (const job of shuffle(jobs, random).slice(0, cancelCount)) job.cancelShare = random() < 0.25 ? 0 : 0.1 + random() * 0.6;

    const allEnded = () => jobs.every((job) => job.final !== null);

    const submitter = async () => {
      for (const job of [...jobs].sort((a, b) => a.submitAt - b.submitAt)) {
        await sleepUntil(started + job.submitAt);
        const res = await http('POST', '', job.request);
        if (res.status !== 200) throw new Error(`POST answered ${res.status}: ${JSON.stringify(res.body)}`);
        job.id = res.body.job_id;
      }
    };

    /** Reads every live job through the API every 400 ms; keeps each change of its data as a snapshot. */
    const observer = async () => {
      while (!allEnded()) {
        await Promise.all(
          jobs
            .filter((job) => job.id !== null && job.final === null)
            .map(async (job) => {
              const res = await http('GET', `/${job.id}`);
              if (res.status !== 200) throw new Error(`GET ${job.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
              const last = job.snapshots.at(-1);
              const data = res.body.data;
              if (last === undefined || last.length !== data.length || last.some((input, i) => input !== data[i])) job.snapshots.push(data);
              if (TERMINAL.has(res.body.state)) job.final = res.body;
            }),
        );
        await sleep(400);
      }
    };

    const canceller = async (job) => {
      const share = Math.ceil(job.cancelShare * job.request.num_inputs_to_generate);
      while (job.id === null || ((job.snapshots.at(-1)?.length ?? 0) < share && job.final === null)) await sleep(20);
      if (job.final !== null) return; // it ended first
      const sent = Date.now();
      const res = await http('DELETE', `/${job.id}`);
      job.cancel = { status: res.status, answer: res.body, latencyMs: null, dataAtCancel: job.snapshots.at(-1)?.length ?? 0 };
      if (res.status === 409) return; // it ended between our last look and the DELETE
      if (res.status !== 200) throw new Error(`DELETE ${job.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
      await waitFor(
        async () => {
          const status = await http('GET', `/${job.id}`);
          if (TERMINAL.has(status.body.state)) {
            job.cancel.endedAs = status.body.state;
            job.cancel.latencyMs = Date.now() - sent;
            return true;
          }
          return false;
        },
        options.seconds * 1000 + 120_000,
        `job ${job.id} to end after its DELETE`,
      );
    };

    /** Kills a random worker every 0.5-3 s (3 in 4 by SIGKILL), and starts a new one shortly after. */
    const killer = async () => {
      while (!chaosOver) {
        await sleep(between(500, 3_000));
        if (chaosOver) break;
        const alive = workers.filter((w) => w.running);
        if (alive.length === 0) continue;
        const victim = pick(alive);
        const signal = random() < 0.75 ? 'SIGKILL' : 'SIGTERM';
        victim.kill(signal);
        kills[signal]++;
        say(`${signal} ${victim.name}`);
        await Promise.race([victim.exited, sleep(5_000)]);
        await sleep(between(0, 1_500));
        await startWorker();
      }
    };

    const chaos = Promise.all([submitter(), killer(), ...jobs.filter((j) => j.cancelShare !== null).map(canceller)]);
    const observing = observer();
    // Both are awaited below; these only keep an early failure from counting as unhandled meanwhile.
    chaos.catch(() => undefined);
    observing.catch(() => undefined);
    // The chaos phase ends at its budget, or earlier once every job has ended
    // (the observer returns then); a step that broke ends it at once.
    await Promise.race([sleep(chaosMs), observing, chaos, interrupted]);
    chaosOver = true;
    await chaos;
    // Back to full strength for the rest.
    while (workers.filter((w) => w.running).length < options.workers) await startWorker();
    say(`chaos over (${kills.SIGKILL + kills.SIGTERM} kills); waiting for the jobs to end`);
    const tooLong = sleep(180_000).then(() => Promise.reject(new Error('jobs still running 180 s after the chaos phase')));
    await Promise.race([observing, tooLong, interrupted]);
    say('every job has ended; checking');

    // The job store's own record of each end (its /messages stream ends only when this is set).
    for (const job of jobs) {
      job.record = await redis.hmget(`${namespace}:job:{${job.id}}:meta`, 'state');
    }
  } catch (error) {
    failure = error;
  } finally {
    chaosOver = true;
    stopping = true;
    await Promise.all(children.map((child) => child.stop(5_000)));
    await fake.close();
    await deleteNamespace(redis, namespace).catch((error) => console.error(`could not delete the keys of ${namespace}: ${error.message}`));
    redis.disconnect();
  }

  if (failure !== null) {
    console.error(`\nThe chaos run broke after ${elapsed()} s: ${failure.stack ?? failure}`);
    for (const child of children) console.error(`\n--- last output of ${child.name}\n${child.tail.slice(-15).join('\n')}`);
    console.error(`\nLogs: ${logDir}`);
    return 2;
  }

  const problems = checkJobs(jobs);
  printSummary({ options, jobs, kills, fake, problems, seconds: elapsed() });
  if (problems.length > 0) {
    console.log(`\nLogs kept in ${logDir}`);
    return 1;
  }
  fs.rmSync(logDir, { recursive: true, force: true });
  return 0;
}

// ---------------------------------------------------------------------------
// Checks

function checkJobs(jobs) {
  const problems = [];
  for (const job of jobs) {
    const { final, request } = job;
    const n = request.num_inputs_to_generate;
    const data = final.data;
    const where = `job ${job.index} (${job.id}, N=${n}, ${request.exploration_mode}, batch ${request.batch_size}${request.seeds.length === 0 ? ', seedless' : ''})`;
    job.duplicates = data.length - new Set(data.map(normalizeText)).size;
    const seeds = new Set(request.seeds.map(normalizeText));
    job.seedCopies = data.filter((input) => seeds.has(normalizeText(input))).length;
    job.lost = 0;
    for (const snapshot of job.snapshots) {
      for (let i = 0; i < snapshot.length; i++) if (data[i] !== snapshot[i]) job.lost++;
    }
    if (final.state === 'DONE' && data.length !== n) problems.push(`${where}: DONE with ${data.length} inputs, not ${n}`);
    if (data.length > n) problems.push(`${where}: ${data.length} inputs, more than the ${n} asked for`);
    if (job.duplicates > 0) problems.push(`${where}: ${job.duplicates} duplicates`);
    if (job.seedCopies > 0) problems.push(`${where}: ${job.seedCopies} inputs repeat a seed`);
    if (job.lost > 0) problems.push(`${where}: ${job.lost} inputs seen during the run are gone or changed`);
    if (job.record?.[0] !== final.state) problems.push(`${where}: the API says ${final.state} but the job store recorded ${job.record?.[0] ?? 'no end'}`);
    if (final.state === 'ERROR') problems.push(`${where}: ended ERROR: ${final.detailed_status.at(-1)}`);
    if (final.state === 'CANCELLED' && job.cancel === null) problems.push(`${where}: CANCELLED, but nobody cancelled it`);
    if (job.cancel !== null && job.cancel.status === 200) {
      if (final.state === 'DONE' && data.length === n) continue; // finished in the same moment; nothing to keep
      if (final.state !== 'CANCELLED') problems.push(`${where}: cancelled, but ended ${final.state}`);
      if (data.length < job.cancel.dataAtCancel) problems.push(`${where}: cancelled with ${job.cancel.dataAtCancel} inputs, kept ${data.length}`);
    }
  }
  return problems;
}

function printSummary({ options, jobs, kills, fake, problems, seconds }) {
  const count = (state) => jobs.filter((j) => j.final.state === state).length;
  const sum = (f) => jobs.reduce((total, job) => total + f(job), 0);
  const done = jobs.filter((j) => j.final.state === 'DONE');
  const planned = jobs.filter((j) => j.cancelShare !== null);
  const cancels = jobs.filter((j) => j.cancel !== null);
  const latencies = cancels.filter((j) => j.cancel.latencyMs !== null).map((j) => j.cancel.latencyMs);
  const faults = Object.entries(fake.stats.faults).filter(([, n]) => n > 0);
  const faultTotal = faults.reduce((total, [, n]) => total + n, 0);
  const rows = [
    ['seed', `${options.seed}`],
    ['workers / chaos budget', `${options.workers} / ${options.seconds} s (run took ${seconds} s)`],
    ['jobs', `${jobs.length}`],
    ['done / error / cancelled', `${count('DONE')} / ${count('ERROR')} / ${count('CANCELLED')}`],
    ['DONE with exactly N', `${done.filter((j) => j.final.data.length === j.request.num_inputs_to_generate).length} of ${done.length}`],
    ['items stored', `${sum((j) => j.final.data.length)} (of ${sum((j) => j.request.num_inputs_to_generate)} asked)`],
    ['worker kills', `${kills.SIGKILL + kills.SIGTERM} (${kills.SIGKILL} SIGKILL, ${kills.SIGTERM} SIGTERM)`],
    ['LLM calls / aborted', `${fake.stats.calls} / ${fake.stats.aborted}`],
    ['faults injected', `${faultTotal}`],
    ...faults.map(([fault, n]) => [`  ${fault}`, `${n}`]),
    ['cancels planned / sent / ended first', `${planned.length} / ${cancels.length} / ${planned.length - cancels.length + cancels.filter((j) => j.cancel.status === 409).length}`],
    ['items lost', `${sum((j) => j.lost)}`],
    ['duplicates', `${sum((j) => j.duplicates + j.seedCopies)}`],
    ['worst cancel latency', latencies.length > 0 ? `${Math.max(...latencies)} ms (of ${latencies.length})` : 'n/a'],
    ['result', problems.length === 0 ? 'PASS' : `FAIL (${problems.length} problems)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  const line = `+-${'-'.repeat(width)}-+-${'-'.repeat(valueWidth)}-+`;
  console.log(`\n${line}`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v.padEnd(valueWidth)} |`);
  console.log(line);
  for (const problem of problems) console.log(`FAIL ${problem}`);
}

// ---------------------------------------------------------------------------
// Helpers

function shuffle(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepUntil(time) {
  return sleep(Math.max(0, time - Date.now()));
}

/** Polls `check` until it is true; `guard` may throw to stop early. */
async function waitFor(check, timeoutMs, what, guard = () => undefined) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    guard();
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
