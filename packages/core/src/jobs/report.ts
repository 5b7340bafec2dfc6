import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { measureDiversity } from '../engine/diversity';
import type { Diversity, JobReport } from '../model/job';

/** Measures a job's report from its inputs: null when it has none. */
export type ReportMeasure = (items: readonly string[]) => Promise<JobReport | null>;

/** The report of a job's inputs, measured here (a worker process: its event loop serves few jobs). */
export const measureReportInline: ReportMeasure = async (items) => (items.length === 0 ? null : { diversity: measureDiversity(items) });

/**
 * The same, on a thread of its own, for the API process: measuring takes
 * 60-100 ms for 1,000 inputs and 200-270 ms for 10,000 (5,000 ROUGE-L pairs,
 * distinct n-grams, gzip), which on the API's event loop would stall every
 * other tenant's requests while one tenant's job is cancelled or settled.
 * One thread, started when first needed and not keeping the process alive.
 */
export class ReportThread {
  private worker: Worker | null = null;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (d: Diversity) => void; reject: (e: unknown) => void }>();

  readonly measure: ReportMeasure = async (items) => {
    if (items.length === 0) return null;
    const worker = this.start();
    const id = this.next++;
    const diversity = await new Promise<Diversity>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, items });
    });
    return { diversity };
  };

  close(): Promise<number> | undefined {
    const worker = this.worker;
    this.worker = null;
    return worker?.terminate();
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    // The thread runs the compiled engine (dist/engine/diversity.js, built with the package): the
    // same path from src/jobs (tests) and from dist/jobs (the service).
    const diversity = path.resolve(__dirname, '../../dist/engine/diversity.js');
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { measureDiversity } = require(${JSON.stringify(diversity)});
       parentPort.on('message', ({ id, items }) => {
         try { parentPort.postMessage({ id, diversity: measureDiversity(items) }); }
         catch (error) { parentPort.postMessage({ id, error: String(error && error.message || error) }); }
       });`,
      { eval: true },
    );
    worker.unref();
    worker.on('message', ({ id, diversity, error }: { id: number; diversity?: Diversity; error?: string }) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (error !== undefined) waiter?.reject(new Error(`measuring the report failed: ${error}`));
      else waiter?.resolve(diversity!);
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new Error('the report thread stopped'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: unknown): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
