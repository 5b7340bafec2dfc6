/**
 * How the fakes' batch APIs (Anthropic's Message Batches, OpenAI's Batch API)
 * pass time: a batch is in progress for `processingMs`, its requests done
 * evenly over that time, then it ends with an answer for each, unless it
 * expires (at half its time: the requests not done by then fail) or some of
 * its requests error. The real APIs take minutes to hours; tests and the
 * bench make it short.
 */
export interface FakeBatchOptions {
  /** How long a batch is in progress, in ms (a number, or per batch: its 0-based index). Default 200. */
  processingMs?: number | ((batchIndex: number) => number);
  /** Batches (by 0-based index) that expire: they end at half their processing time, the requests not done by then expired. */
  expire?: (batchIndex: number) => boolean;
  /** Requests that end in error, by custom_id and batch index. */
  errored?: (customId: string, batchIndex: number) => boolean;
}

/** One batch's clock: when it ends, whether by expiring, and how many of its `size` requests are done at a time. */
export function batchClock(options: FakeBatchOptions | undefined, batch: { index: number; createdAt: number }, size: number) {
  const p = options?.processingMs ?? 200;
  const total = typeof p === 'function' ? p(batch.index) : p;
  const expires = options?.expire?.(batch.index) === true;
  return {
    expires,
    endAt: batch.createdAt + (expires ? Math.floor(total / 2) : total),
    doneBy: (at: number) => (total <= 0 ? size : Math.min(size, Math.floor((size * (at - batch.createdAt)) / total))),
  };
}
