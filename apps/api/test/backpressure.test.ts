import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startJobSchema } from '@datagen/core';
import { ProcessStack, sleep, type ApiService } from '../../../test/support/processes';
import { KEY_A } from '../../../test/support/stack';
import { tenantOf } from '../src/auth';

/**
 * A client that opens a job's stream and never reads it must not make the
 * API hold the job's data: the API writes a stream only as fast as the
 * client takes it, and reads Redis only as fast as it writes. Real
 * processes: the API as a child process, whose resident memory is measured.
 */

let stack: ProcessStack;
let api: ApiService;
afterEach(() => stack?.stop());

const ITEMS = 3_000;
const ITEM_CHARS = 5_000; // 15 MB of inputs

/** Resident memory of a process, in MB. */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** A job of 15 MB of inputs, stored as a worker would have, and ended DONE. */
async function bigJob(): Promise<string> {
  const request = startJobSchema(10_000).parse({ application_description: 'Write long documents.', seeds: ['A document.'], num_inputs_to_generate: ITEMS });
  const { status } = await stack.jobs.submit(tenantOf(KEY_A), request);
  const jobId = status.job_id;
  await stack.store.claim(jobId, 'writer');
  for (let at = 0; at < ITEMS; at += 100) {
    const accepted = Array.from({ length: 100 }, (_, i) => `${at + i} ${'x'.repeat(ITEM_CHARS)}`);
    await stack.store.appendBatch(jobId, 'writer', at, { accepted, usage: { inputTokens: 0, outputTokens: 0, calls: 0 }, message: '' });
  }
  await stack.store.finish(jobId, { state: 'DONE', message: 'Done.', owner: 'writer' });
  return jobId;
}

/** Opens GET `path` and never reads the answer: the socket is paused, so the kernel's buffers fill and stay full. */
function stalledReader(url: string, path: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nx-api-key: ${KEY_A}\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

it('holds a small, fixed buffer for readers that stop reading, and still serves everyone else', async () => {
  stack = new ProcessStack();
  api = await stack.startApi();
  const jobId = await bigJob();

  // Warm the API up on the same path once (code paths, connection pools), then measure.
  const warm = await fetch(`${api.url}/v1/data/generate/${jobId}/data`, { headers: { 'x-api-key': KEY_A } });
  expect((await warm.text()).split('\n').filter(Boolean)).toHaveLength(ITEMS);
  await sleep(500);
  const before = rssMb(api.pid);

  const stalled = await Promise.all(Array.from({ length: 4 }, () => stalledReader(api.url, `/v1/data/generate/${jobId}/data`)));
  // Let the streams go as far as the stalled clients allow (the kernel's socket buffers fill up, then writes stop).
  await sleep(3_000);
  const during = rssMb(api.pid);

  // Everyone else is still served, in full.
  const health = await fetch(`${api.url}/healthz`);
  expect(health.status).toBe(200);
  const full = await fetch(`${api.url}/v1/data/generate/${jobId}/data`, { headers: { 'x-api-key': KEY_A } });
  const lines = (await full.text()).split('\n').filter(Boolean);
  expect(lines).toHaveLength(ITEMS);
  expect(JSON.parse(lines[ITEMS - 1]!)).toMatch(new RegExp(`^${ITEMS - 1} x`));

  for (const socket of stalled) socket.destroy();
  // Before streams waited for 'drain', the API wrote each whole job into its socket's buffer:
  // +131 MB here for these four readers (149 -> 279 MB). Now each holds the socket's buffer
  // and one read of the follow (64 inputs, ~0.3 MB here): +7 MB measured.
  const growth = during - before;
  console.log(`API resident memory: ${before.toFixed(0)} MB before, ${during.toFixed(0)} MB with 4 stalled readers of a 15 MB job (+${growth.toFixed(1)} MB)`);
  expect(growth).toBeLessThan(40);
}, 60_000);
