import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { stopChild, track } from './env';

/**
 * autocannon in a process of its own, as a real client would be: the HTTP
 * client's work (sending, parsing megabytes of answers) is then not charged
 * to the API process being measured. `cannon(options)` forks this file and
 * answers autocannon's result, plus the rate of 2xx answers over the wall time.
 */
export type LoadResult = autocannon.Result & { rate: number };

export async function cannon(options: autocannon.Options): Promise<LoadResult> {
  const child = track(fork(path.join(__dirname, 'load.js'), ['--run'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (message: { result?: LoadResult; error?: string }) => {
        if (message.result !== undefined) resolve(message.result);
        else reject(new Error(`autocannon failed: ${message.error}`));
      });
      child.once('exit', (code) => reject(new Error(`the autocannon process exited (${code})`)));
      child.send(options);
    });
  } finally {
    await stopChild(child);
  }
}

if (require.main === module && process.argv[2] === '--run') {
  process.once('message', (options: autocannon.Options) => {
    const start = performance.now();
    autocannon(options).then(
      (result) => {
        const seconds = (performance.now() - start) / 1000;
        process.send?.({ result: { ...result, rate: result['2xx'] / seconds } }, () => process.exit(0));
      },
      (error: unknown) => process.send?.({ error: String(error) }, () => process.exit(1)),
    );
  });
}
