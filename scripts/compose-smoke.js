'use strict';
/* global setTimeout, clearTimeout */ // Node globals the shared ESLint config does not list for .js files
/**
 * The client half of scripts/compose-smoke.sh: drives the compose stack
 * through the real `withpi` SDK, the way a user would. The shell script does
 * the Docker side (build, up, scale, kill, restart) between these steps:
 *
 *   node scripts/compose-smoke.js basic                    a job to DONE with exactly N distinct
 *                                                          inputs, its data and messages streams,
 *                                                          then the cancel of a running job
 *   node scripts/compose-smoke.js start N                  starts a job of N inputs, prints its id
 *   node scripts/compose-smoke.js progress JOB MIN FILE    waits until the job runs and holds MIN
 *                                                          inputs; writes them to FILE
 *   node scripts/compose-smoke.js finish JOB N FILE        waits for DONE; exactly N distinct inputs
 *                                                          that begin with those in FILE
 *
 * PI_CLIENT_BASE_URL and WITHPI_API_KEY name the server and key (the SDK's
 * own variables). Every wait is bounded (SMOKE_WAIT_SECONDS, default 180; twice
 * that for the job that must outlive a killed worker);
 * a failure prints what did not happen and exits 1.
 */
const fs = require('node:fs');
const { PiClient } = require('withpi');

const WAIT_MS = Number(process.env.SMOKE_WAIT_SECONDS || 180) * 1000;
const BODY = {
  application_description: 'A support assistant for a bicycle repair shop answers customer questions.',
  seeds: [
    'My gears skip when I climb hills. What should I check first?',
    'How often should I replace the chain on a commuter bike?',
  ],
  exploration_mode: 'BALANCED',
};

class SmokeError extends Error {}

function client() {
  // The SDK's own retries ride out the seconds in which Redis restarts (503s, resets).
  return new PiClient({ maxRetries: 4, timeout: 60_000 });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value; past the deadline, fails naming `what`. Errors other than SmokeError count as "not yet". */
async function waitFor(what, probe, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null) return value;
    } catch (error) {
      if (error instanceof SmokeError) throw error; // a verdict, not a hiccup
      last = `last error: ${error && error.message ? error.message : error}`;
    }
    if (Date.now() > deadline) throw new SmokeError(`${what} did not happen within ${Math.round(ms / 1000)} s (${last})`);
    await sleep(500);
  }
}

/** Inputs that are the same after trimming, lowercasing and folding whitespace count as one. */
function checkDistinct(what, inputs) {
  const exact = new Set(inputs);
  const loose = new Set(inputs.map((text) => text.trim().toLowerCase().replace(/\s+/g, ' ')));
  if (exact.size !== inputs.length) throw new SmokeError(`${what}: ${inputs.length - exact.size} exact duplicates among ${inputs.length} inputs`);
  if (loose.size !== inputs.length) throw new SmokeError(`${what}: ${inputs.length - loose.size} duplicates (case/space) among ${inputs.length} inputs`);
  for (const seed of BODY.seeds) if (exact.has(seed)) throw new SmokeError(`${what}: a seed came back as an input`);
}

function lines(text) {
  return text.split('\n').filter((line) => line !== '');
}

/** With a bound of its own: an SDK call that hangs must not hang the test. */
async function bounded(what, promise, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new SmokeError(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function basic() {
  const pi = client();
  const n = 40;
  const started = await pi.data.generate.startJob({ ...BODY, num_inputs_to_generate: n, batch_size: 5 });
  if (typeof started.job_id !== 'string' || started.state !== 'QUEUED') {
    throw new SmokeError(`startJob answered ${JSON.stringify(started).slice(0, 200)}`);
  }
  // Both streams follow the job live from its start and end when it ends.
  const [data, messages] = await bounded(
    `the data and messages streams of job ${started.job_id}`,
    Promise.all([pi.data.generate.streamData(started.job_id), pi.data.generate.streamMessages(started.job_id)]),
  );
  const done = await waitFor(`job ${started.job_id} (N=${n}) reaching DONE`, async () => {
    const status = await pi.data.generate.retrieve(started.job_id);
    if (status.state === 'ERROR' || status.state === 'CANCELLED') {
      throw new SmokeError(`job ${started.job_id} ended ${status.state}: ${status.detailed_status.slice(-3).join(' | ')}`);
    }
    return status.state === 'DONE' ? status : null;
  });
  const inputs = done.data || [];
  if (inputs.length !== n) throw new SmokeError(`job ${started.job_id} is DONE with ${inputs.length} inputs, not ${n}`);
  checkDistinct(`job ${started.job_id}`, inputs);
  const streamed = lines(data).map((line) => JSON.parse(line));
  if (JSON.stringify(streamed) !== JSON.stringify(inputs)) {
    throw new SmokeError(`the data stream of job ${started.job_id} gave ${streamed.length} inputs that differ from the job's ${inputs.length}`);
  }
  const said = lines(messages);
  if (said.at(-1) !== 'DONE' || said.length < 3) {
    throw new SmokeError(`the messages stream of job ${started.job_id} ended with "${said.at(-1)}" after ${said.length} lines, not DONE`);
  }
  console.log(`job ${started.job_id}: DONE with exactly ${n} distinct inputs; data stream ${streamed.length} lines, messages stream ${said.length} lines ending DONE`);

  // Cancel: a job too large to end soon, cancelled while it runs; it keeps what it made.
  const big = await pi.data.generate.startJob({ ...BODY, num_inputs_to_generate: 5000, batch_size: 5 });
  const running = await waitFor(`job ${big.job_id} running with inputs (before the cancel)`, async () => {
    const status = await pi.data.generate.retrieve(big.job_id);
    return status.state === 'RUNNING' && (status.data || []).length > 0 ? status : null;
  });
  const asked = Date.now();
  await pi.data.generate.cancel(big.job_id);
  const cancelled = await waitFor(`job ${big.job_id} reaching CANCELLED after the cancel`, async () => {
    const status = await pi.data.generate.retrieve(big.job_id);
    if (status.state === 'DONE' || status.state === 'ERROR') throw new SmokeError(`job ${big.job_id} ended ${status.state}, not CANCELLED`);
    return status.state === 'CANCELLED' ? status : null;
  });
  const kept = cancelled.data || [];
  if (kept.length < running.data.length || kept.length >= 5000) {
    throw new SmokeError(`cancelled job ${big.job_id} holds ${kept.length} inputs (it held ${running.data.length} before the cancel, of 5000)`);
  }
  checkDistinct(`cancelled job ${big.job_id}`, kept);
  const tail = lines(await bounded(`the messages stream of cancelled job ${big.job_id}`, pi.data.generate.streamMessages(big.job_id))).at(-1);
  if (tail !== 'CANCELLED') throw new SmokeError(`the messages stream of cancelled job ${big.job_id} ended with "${tail}", not CANCELLED`);
  console.log(`job ${big.job_id}: CANCELLED ${Date.now() - asked} ms after the cancel, keeping its ${kept.length} distinct inputs`);
}

async function start(n) {
  const started = await client().data.generate.startJob({ ...BODY, num_inputs_to_generate: n, batch_size: 5 });
  console.log(started.job_id);
}

async function progress(jobId, min, file) {
  const pi = client();
  const status = await waitFor(`job ${jobId} running with at least ${min} inputs`, async () => {
    const s = await pi.data.generate.retrieve(jobId);
    if (s.state !== 'QUEUED' && s.state !== 'RUNNING') throw new SmokeError(`job ${jobId} is already ${s.state}: too fast for the faults to land in the middle`);
    return s.state === 'RUNNING' && (s.data || []).length >= min ? s : null;
  });
  fs.writeFileSync(file, JSON.stringify(status.data));
  console.log(`job ${jobId}: RUNNING with ${status.data.length} inputs`);
}

async function finish(jobId, n, file) {
  const pi = client();
  const before = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Twice the usual bound: the job first waits for its dead worker's lock to expire (up to a minute).
  const done = await waitFor(
    `job ${jobId} (N=${n}) reaching DONE after the faults`,
    async () => {
      const s = await pi.data.generate.retrieve(jobId);
      if (s.state === 'ERROR' || s.state === 'CANCELLED') {
        throw new SmokeError(`job ${jobId} ended ${s.state}: ${s.detailed_status.slice(-3).join(' | ')}`);
      }
      return s.state === 'DONE' ? s : null;
    },
    2 * WAIT_MS,
  );
  const inputs = done.data || [];
  if (inputs.length !== n) throw new SmokeError(`job ${jobId} is DONE with ${inputs.length} inputs, not ${n}`);
  checkDistinct(`job ${jobId}`, inputs);
  const lost = before.findIndex((text, i) => inputs[i] !== text);
  if (lost !== -1) throw new SmokeError(`job ${jobId} lost or reordered input #${lost} it held before the faults`);
  console.log(`job ${jobId}: DONE with exactly ${n} distinct inputs, the ${before.length} held before the faults kept in place`);
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'basic' && args.length === 0) return basic();
  if (command === 'start' && args.length === 1) return start(Number(args[0]));
  if (command === 'progress' && args.length === 3) return progress(args[0], Number(args[1]), args[2]);
  if (command === 'finish' && args.length === 3) return finish(args[0], Number(args[1]), args[2]);
  throw new SmokeError('usage: compose-smoke.js basic | start N | progress JOB MIN FILE | finish JOB N FILE');
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    console.error(`compose smoke: ${error instanceof SmokeError ? error.message : (error && error.stack) || error}`);
    process.exit(1);
  },
);
