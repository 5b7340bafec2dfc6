import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropicStats } from '@datagen/core/testing';
import { track, stopChild } from './env';

/**
 * The fake Anthropic Messages API (packages/core/src/testing/fakeAnthropic.ts)
 * in a process of its own, so its CPU is not charged to the worker being
 * measured. `startFakeLlm(latencyMs)` forks this file; the child answers
 * `{type: 'stats'}` messages with its counters.
 */

export const FAKE_LLM_KEY = 'test-key';

export interface FakeLlm {
  url: string;
  latencyMs: number;
  stats(): Promise<FakeAnthropicStats>;
  close(): Promise<void>;
}

type ChildMessage = { type: 'ready'; url: string } | { type: 'stats'; stats: FakeAnthropicStats };

/** `batchProcessingMs`: how long a Message Batch takes (the economy section; the real API takes minutes to hours). */
export async function startFakeLlm(latencyMs: number, batchProcessingMs = 200): Promise<FakeLlm> {
  const args = ['--serve', String(latencyMs), String(batchProcessingMs)];
  const child: ChildProcess = track(fork(path.join(__dirname, 'fakeLlmServer.js'), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type === 'ready') {
        child.off('exit', onExit);
        resolve(message.url);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`the fake LLM server exited (${code}) before it was ready`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  return {
    url,
    latencyMs,
    stats: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the fake LLM server did not answer a stats request')), 5_000);
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(message.stats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    close: () => stopChild(child),
  };
}

async function serve(latencyMs: number, batchProcessingMs: number): Promise<void> {
  const fake = await startFakeAnthropic({ apiKey: FAKE_LLM_KEY, latencyMs, batches: { processingMs: batchProcessingMs } });
  const stop = () => {
    void fake.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop); // the bench went away
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: fake.stats });
  });
  process.send?.({ type: 'ready', url: fake.url });
}

if (require.main === module && process.argv[2] === '--serve') {
  serve(Number(process.argv[3] ?? 0), Number(process.argv[4] ?? 200)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
