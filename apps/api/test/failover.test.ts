import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { jobKeys, queuePrefix } from '@datagen/core';
import { KEY_A, redisMode, startStack, submitJob, waitFor, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * A Redis Cluster that loses a master while jobs run: the API and two
 * workers (in this process) on a cluster of three masters with one replica
 * each (scripts/redis-cluster.sh), jobs running, then the master that holds
 * the queue's slot (and some of the jobs' slots) fails over twice: first
 * gracefully (CLUSTER FAILOVER on its replica), then for real (SIGKILL of the
 * process that has become the master; its replica takes over after
 * cluster-node-timeout). Every job must still end DONE with exactly N
 * distinct inputs, read through the API, which may answer 503 meanwhile.
 *
 * It kills a node, so it runs on its own (`npm run test:failover`, after
 * `npm run test:cluster` in CI), never in `npm test`; at its end it starts the
 * killed node again, which rejoins as a replica.
 */

const N = 60;
const BATCH = 2;
/** Each batch of inputs takes this long: a job takes at least N / BATCH of them (one at a time), 6 s. */
const LATENCY_MS = 200;
const MIN_JOBS = 8;
const MIN_JOBS_ON_VICTIM = 3;
const MAX_JOBS = 30;

interface ClusterNode {
  id: string;
  host: string;
  port: number;
  role: 'master' | 'replica';
  masterId: string | null;
  failed: boolean;
  slots: Array<[number, number]>;
}

let stack: TestStack | undefined;
/** A killed node to start again whatever happens: its config file. */
let toRestart: { port: number; configFile: string } | undefined;
/** A node given a wrong masterauth to cut it off from its master: to be given its empty one back. */
let cut: number | undefined;

async function undoCut(): Promise<void> {
  if (cut === undefined) return;
  await onNode(cut, (c) => c.config('SET', 'masterauth', ''));
  cut = undefined;
}

afterAll(async () => {
  await undoCut().catch(() => undefined);
  await stack?.stop();
  if (toRestart !== undefined) await restartNode(toRestart.port, toRestart.configFile);
}, 60_000);

it('every job ends with exactly N distinct inputs while the master of the queue fails over, gracefully then killed', async () => {
  if (redisMode() !== 'cluster') {
    throw new Error('the failover test needs a Redis Cluster with replicas: scripts/redis-cluster.sh start, then npm run test:failover');
  }
  const started = Date.now();
  const provider = new SequenceProvider({ latencyMs: LATENCY_MS });
  stack = await startStack({
    env: {
      WORKER_CONCURRENCY: '10',
      JOB_MAX_PARALLEL_BATCHES: '1',
      // A run whose lock was lost with the master is handed to a worker again within seconds.
      WORKER_LOCK_DURATION_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '2000',
    },
  });
  const events = new Map<string, number>();
  const count = (what: string) => events.set(what, (events.get(what) ?? 0) + 1);
  for (let i = 0; i < 2; i++) {
    const { worker } = await stack.startWorker(provider);
    worker.on('failed', (_job, err) => count(`attempt failed: ${kind(err)}`));
    worker.on('stalled', () => count('stalled (taken over)'));
    worker.on('error', (err) => count(`worker error: ${kind(err)}`));
  }
  const s = stack;
  const seed = seedNode(s);

  // Where the queue lives: its slot, and the master (and replica) that hold it.
  const queueSlot = await slotOf(s, queuePrefix(s.config.keyPrefix));
  let nodes = await clusterNodes(seed);
  const master = ownerOf(nodes, queueSlot);
  const replica = nodes.find((node) => node.masterId === master.id && !node.failed);
  if (replica === undefined) throw new Error(`the master of the queue's slot (${master.port}) has no replica: restart the cluster (scripts/redis-cluster.sh stop; start)`);
  await waitFor(() => replicaInSync(replica.port), 30_000, `replica ${replica.port} to be in sync`);

  // Jobs until at least MIN_JOBS_ON_VICTIM of them are on the queue's master too (a third of all slots, in general).
  const jobs: Array<{ id: string; onVictim: boolean }> = [];
  while (jobs.length < MAX_JOBS && (jobs.length < MIN_JOBS || jobs.filter((j) => j.onVictim).length < MIN_JOBS_ON_VICTIM)) {
    const id = await submitJob(s, {
      application_description: 'Answer questions about a small vocabulary of things.',
      seeds: ['Question: what is a lantern?'],
      num_inputs_to_generate: N,
      batch_size: BATCH,
    });
    const slot = await slotOf(s, jobKeys(s.config.keyPrefix, id).meta);
    jobs.push({ id, onVictim: slot >= 0 && ownsSlot(master, slot) });
  }
  expect(jobs.filter((j) => j.onVictim).length).toBeGreaterThanOrEqual(MIN_JOBS_ON_VICTIM);

  const watch = new Watch(s.url, jobs.map((j) => j.id));
  watch.start();
  try {
    // Every job running and storing before the first failover.
    await waitFor(async () => jobs.every((j) => (watch.counts.get(j.id) ?? 0) >= 2), 30_000, 'every job to store its first inputs');

    // 1. Graceful: the replica takes over the queue's slot once it has all of its master's writes.
    watch.mark('CLUSTER FAILOVER');
    const replicaClient = node(replica.port);
    try {
      expect(await replicaClient.cluster('FAILOVER')).toBe('OK');
      await waitFor(async () => (await role(replica.port)) === 'master' && (await role(master.port)) === 'slave', 20_000, `${replica.port} to become the master`);
    } finally {
      replicaClient.disconnect();
    }
    watch.mark('graceful failover done');
    // The jobs go on, on the new master too.
    const before = watch.snapshot();
    await waitFor(async () => jobs.filter((j) => j.onVictim).every((j) => watch.counts.get(j.id)! > before.get(j.id)! || watch.ended.has(j.id)), 30_000, 'the jobs to go on after the graceful failover');

    // 2. Killed: the master of the queue's slot now is the former replica. A
    // plain SIGKILL loses only what the replica had not yet received (next to
    // nothing on loopback), so first the replica is cut off: it is told a
    // wrong password for its master and its link is closed, so it cannot
    // reconnect, while the master goes on acknowledging writes (appended
    // batches, BullMQ moves and locks). Then the kill loses all of those.
    nodes = await clusterNodes(master.port);
    const victim = ownerOf(nodes, queueSlot);
    expect(victim.port).toBe(replica.port);
    await waitFor(() => replicaInSync(master.port), 30_000, `${master.port} to be an in-sync replica of ${victim.port}`);
    const { pid, configFile } = await serverInfo(victim.port);
    toRestart = { port: victim.port, configFile };
    watch.mark(`replication ${victim.port} -> ${master.port} cut`);
    cut = master.port;
    await onNode(master.port, (c) => c.config('SET', 'masterauth', 'failover-test-cut'));
    await onNode(victim.port, (c) => c.client('KILL', 'TYPE', 'replica'));
    await waitFor(async () => (await info(master.port, 'replication')).get('master_link_status') === 'down', 10_000, `the link of ${master.port} to go down`);
    const cutAt = watch.snapshot();
    await waitFor(
      async () => jobs.filter((j) => j.onVictim).some((j) => watch.counts.get(j.id)! > cutAt.get(j.id)!),
      30_000,
      'a job on the master to store inputs its replica does not get',
    );
    const runningOnVictim = jobs.filter((j) => j.onVictim && !watch.ended.has(j.id)).length;
    expect(runningOnVictim).toBeGreaterThan(0);
    const unreplicated = Number((await info(victim.port, 'replication')).get('master_repl_offset')) - Number((await info(master.port, 'replication')).get('slave_repl_offset'));
    expect(unreplicated).toBeGreaterThan(0);
    watch.mark(`SIGKILL ${victim.port} (${unreplicated} bytes of writes not replicated)`);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await role(master.port)) === 'master', 30_000, `${master.port} to be promoted after ${victim.port} was killed`);
    watch.mark('replica promoted');
    await undoCut();

    // Every job ends, as the API says (read again on a 503 or a refused connection).
    await waitFor(async () => jobs.every((j) => watch.ended.has(j.id)), 120_000, 'every job to end');
  } finally {
    watch.stop();
    await watch.stopped;
    await undoCut();
  }

  const all: string[] = [];
  for (const job of jobs) {
    const status = watch.ended.get(job.id)!;
    expect({ job: job.id, state: status.state }).toEqual({ job: job.id, state: 'DONE' });
    expect(status.data).toHaveLength(N);
    expect(new Set(status.data).size).toBe(N);
    all.push(...status.data);
  }
  // The provider never makes the same input twice, so an input found twice was stored twice.
  expect(new Set(all).size).toBe(all.length);
  const final = new Set(all);

  console.log(
    [
      `failover test: ${jobs.length} jobs of ${N} (${jobs.filter((j) => j.onVictim).length} on the failed-over master), ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ...watch.report(jobs.filter((j) => j.onVictim).map((j) => j.id)),
      // What the failover took back: inputs a client was shown that the job then generated anew.
      `  reads that went back: ${watch.wentBack.map((w) => `${w.from} -> ${w.to}`).join(', ') || 'none'}; inputs shown by the API but not in the final data: ${[...watch.seen].filter((input) => !final.has(input)).length}`,
      `  workers: ${[...events].map(([what, n]) => `${what} x${n}`).join('; ') || 'no failed attempt, no stall, no error'}`,
    ].join('\n'),
  );
}, 240_000);

/** An error's message without job ids, shortened, to count errors by kind. */
function kind(error: Error): string {
  return error.message.replace(/[0-9a-f]{32}/g, '<job>').slice(0, 70);
}

/** Reads every job's status through the API, over and over, keeping what it answers and when. */
class Watch {
  readonly counts = new Map<string, number>();
  readonly ended = new Map<string, { state: string; data: string[] }>();
  /** Every input the API has shown, of any job. */
  readonly seen = new Set<string>();
  /** Reads that showed a job with fewer inputs than an earlier read did. */
  readonly wentBack: Array<{ id: string; from: number; to: number }> = [];
  /** Per job, the times its count went up. */
  private readonly progress = new Map<string, number[]>();
  private readonly answers: Array<{ at: number; answer: string }> = [];
  private readonly marks: Array<{ at: number; what: string }> = [];
  private running = false;
  stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly ids: string[],
  ) {
    for (const id of ids) this.progress.set(id, []);
  }

  start(): void {
    this.running = true;
    this.stopped = this.loop();
  }

  stop(): void {
    this.running = false;
  }

  mark(what: string): void {
    this.marks.push({ at: Date.now(), what });
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await Promise.all(this.ids.filter((id) => !this.ended.has(id)).map((id) => this.read(id)));
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async read(id: string): Promise<void> {
    let answer: string;
    try {
      const res = await fetch(`${this.url}/v1/data/generate/${id}`, { headers: { 'x-api-key': KEY_A }, signal: AbortSignal.timeout(10_000) });
      answer = String(res.status);
      const body = (await res.json()) as any;
      if (res.status === 200) {
        const data = body.data as string[];
        const count = data.length;
        if (count > (this.counts.get(id) ?? 0)) this.progress.get(id)!.push(Date.now());
        if (count < (this.counts.get(id) ?? 0)) this.wentBack.push({ id, from: this.counts.get(id)!, to: count });
        this.counts.set(id, count);
        for (const input of data) this.seen.add(input);
        if (['DONE', 'ERROR', 'CANCELLED'].includes(body.state)) this.ended.set(id, { state: body.state, data: body.data });
      } else {
        answer += ` ${String(body.detail ?? '').slice(0, 60)}`;
      }
    } catch (error) {
      answer = `no answer (${(error as Error).message})`;
    }
    this.answers.push({ at: Date.now(), answer });
  }

  /** What the API answered from each mark to the next, and how long the given jobs went without a new input after each mark. */
  report(ids: string[]): string[] {
    const lines: string[] = [];
    const t0 = this.marks[0]?.at ?? 0;
    for (const [i, mark] of this.marks.entries()) {
      const until = this.marks[i + 1]?.at ?? Infinity;
      const answers = new Map<string, number>();
      for (const a of this.answers) if (a.at >= mark.at && a.at < until) answers.set(a.answer, (answers.get(a.answer) ?? 0) + 1);
      const pauses = ids
        .map((id) => {
          const times = this.progress.get(id)!;
          const last = times.filter((t) => t <= mark.at).at(-1);
          const next = times.find((t) => t > mark.at);
          return last !== undefined && next !== undefined ? next - last : null;
        })
        .filter((p): p is number => p !== null);
      lines.push(
        `  +${((mark.at - t0) / 1000).toFixed(1)} s ${mark.what}: API answered ${[...answers].map(([a, n]) => `${a} x${n}`).join(', ') || 'nothing'}` +
          (pauses.length > 0 ? `; jobs on that master went ${Math.min(...pauses)}-${Math.max(...pauses)} ms without a new input` : ''),
      );
    }
    return lines;
  }
}

function seedNode(s: TestStack): number {
  return Number(new URL(s.config.redisNodes[0]!).port);
}

function node(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  return client;
}

async function onNode<T>(port: number, call: (client: Redis) => Promise<T>): Promise<T> {
  const client = node(port);
  try {
    return await call(client);
  } finally {
    client.disconnect();
  }
}

async function slotOf(s: TestStack, key: string): Promise<number> {
  return onNode(seedNode(s), (c) => c.cluster('KEYSLOT', key) as Promise<number>);
}

/** CLUSTER NODES as one node sees it. */
async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = await onNode(port, (c) => c.cluster('NODES') as Promise<string>);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      const [hostPort] = address!.split('@');
      const colon = hostPort!.lastIndexOf(':');
      const flagList = flags!.split(',');
      return {
        id: id!,
        host: hostPort!.slice(0, colon),
        port: Number(hostPort!.slice(colon + 1)),
        role: flagList.includes('master') ? 'master' : 'replica',
        masterId: masterId === '-' ? null : masterId!,
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        slots: slots.filter((range) => !range.startsWith('[')).map((range) => {
          const [from, to] = range.split('-').map(Number);
          return [from!, to ?? from!] as [number, number];
        }),
      } satisfies ClusterNode;
    });
}

function ownsSlot(n: ClusterNode, slot: number): boolean {
  return n.slots.some(([from, to]) => slot >= from && slot <= to);
}

function ownerOf(nodes: ClusterNode[], slot: number): ClusterNode {
  const owner = nodes.find((n) => n.role === 'master' && !n.failed && ownsSlot(n, slot));
  if (owner === undefined) throw new Error(`no master holds slot ${slot}`);
  return owner;
}

async function info(port: number, section: string): Promise<Map<string, string>> {
  const text = await onNode(port, (c) => c.info(section));
  return new Map(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

async function role(port: number): Promise<string | undefined> {
  return (await info(port, 'replication').catch(() => new Map<string, string>())).get('role');
}

/** A replica whose link to its master is up and whose master sees it online. */
async function replicaInSync(port: number): Promise<boolean> {
  try {
    const repl = await info(port, 'replication');
    if (repl.get('role') !== 'slave' || repl.get('master_link_status') !== 'up') return false;
    const master = await info(Number(repl.get('master_port')), 'replication');
    return [...master].some(([key, value]) => key.startsWith('slave') && value.includes(`port=${port},state=online`));
  } catch {
    return false; // not up yet
  }
}

async function serverInfo(port: number): Promise<{ pid: number; configFile: string }> {
  const server = await info(port, 'server');
  const configFile = server.get('config_file') ?? '';
  if (configFile === '') throw new Error(`node ${port} was started without a config file: restart the cluster with scripts/redis-cluster.sh`);
  return { pid: Number(server.get('process_id')), configFile };
}

/** Starts a killed node again from its config file (it daemonizes); it rejoins the cluster as a replica. */
async function restartNode(port: number, configFile: string): Promise<void> {
  const started = spawnSync('redis-server', [configFile], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`could not restart node ${port}: ${started.stderr}`);
  await waitFor(async () => (await role(port)) === 'slave' && (await replicaInSync(port)), 30_000, `node ${port} to rejoin as a replica`);
}
