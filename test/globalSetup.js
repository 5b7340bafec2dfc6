/**
 * Tests talk to a real Redis. The first of these that works is used, and the
 * first line of the output says which:
 *
 *   1. REDIS_URL, when it is set (CI starts the machine's Redis and sets it);
 *   2. a Redis already answering PING on 127.0.0.1:6379;
 *   3. a redis-server from PATH, started for this run on a free loopback port
 *      (no persistence, files in a temporary directory), stopped by its pid in
 *      globalTeardown, and by a watchdog if this process dies first;
 *   4. a throwaway Redis container (testcontainers, needs Docker).
 *
 * REDIS_MODE=cluster needs REDIS_URL (a node of a running cluster).
 * TEST_REDIS_PROBE_PORT: the port of step 2 (default 6379); for tests of this
 * setup only, e.g. a closed port to exercise step 3.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { clearTimeout, setTimeout } = require('node:timers');
const { URL } = require('node:url');

const PROBE_HOST = '127.0.0.1';
const PROBE_PORT = Number(process.env.TEST_REDIS_PROBE_PORT || 6379);

module.exports = async function globalSetup() {
  if (process.env.REDIS_URL) {
    const cluster = process.env.REDIS_MODE === 'cluster' ? 'the Redis Cluster' : 'Redis';
    return say(`tests use ${cluster} at ${redacted(process.env.REDIS_URL)} (REDIS_URL)`);
  }
  if (process.env.REDIS_MODE === 'cluster') {
    throw new Error('REDIS_MODE=cluster needs REDIS_URL, a node of a running cluster (scripts/redis-cluster.sh start)');
  }
  if (await answersPing(PROBE_HOST, PROBE_PORT, 500)) {
    process.env.REDIS_URL = `redis://${PROBE_HOST}:${PROBE_PORT}`;
    return say(`tests use Redis at ${process.env.REDIS_URL} (found on ${PROBE_HOST}:${PROBE_PORT})`);
  }
  const tried = [`nothing answers on ${PROBE_HOST}:${PROBE_PORT}`];
  try {
    const server = await startRedisServer();
    globalThis.__REDIS_SERVER__ = server;
    process.env.REDIS_URL = server.url;
    return say(`tests use Redis at ${server.url} (a redis-server started for this run)`);
  } catch (error) {
    tried.push(error.message);
  }
  try {
    const { RedisContainer } = require('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    globalThis.__REDIS_CONTAINER__ = container;
    process.env.REDIS_URL = container.getConnectionUrl();
    return say(`tests use Redis at ${process.env.REDIS_URL} (a testcontainers container)`);
  } catch (error) {
    tried.push(`testcontainers: ${firstLine(error.message)}`);
  }
  const message = `No Redis for the tests (${tried.join('; ')}): install redis-server (apt install redis-server) or Docker, or set REDIS_URL.`;
  const error = new Error(message);
  error.stack = message; // the sentence is the whole story; no stack under it
  throw error;
};

function say(line) {
  process.stderr.write(`${line}\n`);
}

function redacted(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function firstLine(text) {
  return String(text).split('\n')[0];
}

/** A Redis that answers PING (no password asked) on host:port within timeoutMs, over a raw TCP socket. */
function answersPing(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, PROBE_HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of this run: on a free loopback port, without persistence,
 * in a temporary directory. A watchdog shell holds a pipe from this process:
 * when this process goes away however it ends (even SIGKILL), the pipe closes
 * and the watchdog stops the server by its pid and removes the directory;
 * stop() tells it to just exit instead.
 */
async function startRedisServer() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datagen-test-redis-'));
  const args = ['--port', String(port), '--bind', PROBE_HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const server = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const failed = new Promise((resolve) => {
    server.once('error', (error) => resolve(error.code === 'ENOENT' ? 'redis-server is not on PATH' : `redis-server: ${error.message}`));
    server.once('exit', (code, signal) => resolve(`redis-server exited (${signal ?? `code ${code}`}) at start`));
  });
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const why = await Promise.race([failed, new Promise((resolve) => setTimeout(() => resolve(null), 50))]);
    if (why !== null) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(stderr.trim() ? `${why}: ${firstLine(stderr.trim())}` : why);
    }
    if (await answersPing(PROBE_HOST, port, 200)) break;
    if (Date.now() > deadline) {
      server.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error('redis-server did not answer within 5 s');
    }
  }
  server.stderr.destroy();
  server.unref();

  const pid = server.pid;
  // `read` gets a line from stop() (then the watchdog just exits), or end of file when this process is gone.
  const watchdog = spawn('sh', ['-c', 'if read -r _; then exit 0; fi; kill "$1" 2>/dev/null; sleep 1; rm -rf "$2"', 'watchdog', String(pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  watchdog.stdin.unref?.();
  // A plain exit without globalTeardown (jest failing after this setup): stop it now.
  const onExit = () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);

  return {
    url: `redis://${PROBE_HOST}:${port}`,
    pid,
    /** Stops the server by its pid (SIGTERM, SIGKILL after 5 s) and removes its directory. */
    async stop() {
      process.off('exit', onExit);
      watchdog.stdin.end('stopped by globalTeardown\n'); // its job is done here
      const alive = () => {
        try {
          process.kill(pid, 0);
          return server.exitCode === null && server.signalCode === null;
        } catch {
          return false;
        }
      };
      if (alive()) process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && alive(); i++) {
        if (i === 50) process.kill(pid, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
