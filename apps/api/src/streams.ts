import type { Request, Response } from 'express';
import { duplicateConnection, endMarker, TERMINAL_STATES, type JobState, type RedisClient } from '@datagen/core';
import type { ApiContext } from './context';
import { liveState } from './status';

/**
 * The two text streams of a job. Both replay from the start on every
 * connection, follow the job's Redis streams with blocking reads, and end
 * when the job's messages stream records its end.
 *
 * Data: one accepted input per line, JSON-encoded (inputs may hold newlines).
 * Messages: the state at connect time, then each progress message, then the
 * terminal state.
 */

/** How long one blocking read waits before the job's state is checked again. */
const BLOCK_MS = 5_000;
const READ_COUNT = 1_000;

type Entries = Array<[string, string[]]>;

export async function streamData(ctx: ApiContext, req: Request, res: Response, jobId: string): Promise<void> {
  startTextStream(res);
  await follow(ctx, req, res, jobId, {
    onData: (value) => `${JSON.stringify(value)}\n`,
    onMessage: () => '',
    onEnd: () => '',
  });
}

export async function streamMessages(ctx: ApiContext, req: Request, res: Response, jobId: string, stateAtConnect: JobState): Promise<void> {
  startTextStream(res);
  if (!TERMINAL_STATES.has(stateAtConnect)) res.write(`${stateAtConnect}\n`);
  await follow(ctx, req, res, jobId, {
    onData: () => '',
    onMessage: (text) => `${oneLine(text)}\n`,
    onEnd: (state) => `${state}\n`,
  });
}

interface Render {
  onData(value: string): string;
  onMessage(text: string): string;
  onEnd(state: JobState): string;
}

function startTextStream(res: Response): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no'); // let proxies pass lines through as they come
  res.flushHeaders();
}

async function follow(ctx: ApiContext, req: Request, res: Response, jobId: string, render: Render): Promise<void> {
  const keys = ctx.store.keys(jobId);
  // A blocking read holds its connection, so each open stream gets its own
  // (on a cluster, its own cluster client: the job's two streams share a slot).
  const reader: RedisClient = duplicateConnection(ctx.redis, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  reader.on('error', () => undefined); // a stream that loses Redis ends; the client reconnects
  ctx.openStreams.add(reader);
  let closed = false;
  const onClose = () => {
    closed = true;
    reader.disconnect();
  };
  req.on('close', onClose);

  try {
    let dataId = '0-0';
    let messagesId = '0-0';
    let ended: JobState | null = null;
    while (!closed) {
      const block = ended === null ? BLOCK_MS : undefined;
      const result = (block === undefined
        ? await reader.xread('COUNT', READ_COUNT, 'STREAMS', keys.data, keys.messages, dataId, messagesId)
        : await reader.xread('COUNT', READ_COUNT, 'BLOCK', block, 'STREAMS', keys.data, keys.messages, dataId, messagesId)) as
        | Array<[string, Entries]>
        | null;
      let out = '';
      for (const [key, entries] of result ?? []) {
        for (const [id, fields] of entries) {
          if (key === keys.data) {
            dataId = id;
            out += render.onData(fields[1] ?? '');
          } else {
            messagesId = id;
            const end = endMarker(fields);
            if (end !== null) ended = end;
            else if (ended === null) out += render.onMessage(fields[1] ?? '');
          }
        }
      }
      if (out !== '' && !closed) res.write(out);
      if (ended !== null) {
        // the end marker is written after the last item: one more pass drains what is left
        if (result === null || !result.some(([key, entries]) => key === keys.data && entries.length === READ_COUNT)) break;
        continue;
      }
      if (result === null) ended = await endedWithoutMarker(ctx, jobId);
    }
    if (!closed && ended !== null) res.end(render.onEnd(ended));
  } finally {
    req.off('close', onClose);
    ctx.openStreams.delete(reader);
    reader.disconnect();
    if (!res.writableEnded) res.end();
  }
}

/** A job can end without the marker: its records expired, or BullMQ failed it outright. */
async function endedWithoutMarker(ctx: ApiContext, jobId: string): Promise<JobState | null> {
  const record = await ctx.store.getRecord(jobId);
  if (record === null) return 'ERROR';
  const state = record.state ?? (await liveState(ctx.queue, record));
  return TERMINAL_STATES.has(state) ? state : null;
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ');
}
