import { Worker } from 'node:worker_threads';

/**
 * A Parquet file of string columns, written by hyparquet-writer (an ES
 * module, which this CommonJS build loads by import() on a thread of its
 * own: the file is also built off the event loop, whatever its size).
 */
export function parquetOfStrings(columns: Array<{ name: string; data: string[] }>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import('hyparquet-writer').then(({ parquetWriteBuffer }) => {
         const buffer = parquetWriteBuffer({ columnData: workerData.map((c) => ({ name: c.name, data: c.data, type: 'STRING' })) });
         parentPort.postMessage(Buffer.from(buffer));
       }).catch((error) => parentPort.postMessage({ error: String(error && error.message || error) }));`,
      { eval: true, workerData: columns },
    );
    worker.once('message', (message: Uint8Array | { error: string }) => {
      void worker.terminate();
      if (message instanceof Uint8Array) resolve(Buffer.from(message));
      else reject(new Error(`writing the Parquet file failed: ${message.error}`));
    });
    worker.once('error', reject);
  });
}
