import { once } from 'node:events';
import type { Request, Response } from 'express';
import { isTerminal, type FollowEvent, type JobFollow } from '@datagen/core';

/**
 * The two text streams of a job, written as the job service's follow
 * yields them. Both replay from the start on every connection and end when
 * the job ends.
 *
 * Data: one accepted input per line, JSON-encoded (inputs may hold newlines).
 * Messages: the state at connect time, then each progress message, then the
 * terminal state.
 *
 * Backpressure: the next events are pulled only once the socket has taken
 * the last ones (`drain`), so a client that stops reading holds the socket's
 * buffer plus one read of the follow (FOLLOW_READ_COUNT entries), and the
 * Redis reads pause with it.
 */
export async function writeFollow(req: Request, res: Response, follow: JobFollow, what: 'data' | 'messages'): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no'); // let proxies pass lines through as they come
  res.flushHeaders();
  const render = what === 'data' ? renderData : renderMessages;
  const gone = () => follow.close();
  req.once('close', gone);
  res.once('close', gone);
  try {
    if (what === 'messages' && !isTerminal(follow.state)) res.write(`${follow.state}\n`);
    for await (const event of follow.events) {
      const text = render(event);
      if (text !== '' && !res.write(text) && !(await drained(res))) return;
    }
  } catch {
    // A follow that loses Redis, or is closed on shutdown: end the response; the client reconnects.
    if (!res.destroyed) res.end();
    return;
  } finally {
    req.off('close', gone);
    res.off('close', gone);
    follow.close();
  }
  if (!res.writableEnded) res.end();
}

function renderData(event: FollowEvent): string {
  return event.kind === 'items' ? event.texts.map((text) => `${JSON.stringify(text)}\n`).join('') : '';
}

function renderMessages(event: FollowEvent): string {
  if (event.kind === 'messages') return event.texts.map((text) => `${text.replace(/\r?\n/g, ' ')}\n`).join('');
  if (event.kind === 'end') return `${event.state}\n`;
  return '';
}

/** Waits until the socket has taken what was written (true), or the client went away (false). */
async function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return false;
  const closed = once(res, 'close').then(() => false);
  return Promise.race([once(res, 'drain').then(() => true), closed]);
}

/**
 * Entries as JSON lines, page after page, each page read only once the
 * socket has taken the one before (as the follows do): a client that stops
 * reading holds one page.
 */
export async function writeJsonLines(
  res: Response,
  first: { entries: object[]; next: number | null },
  readFrom: (offset: number) => Promise<{ entries: object[]; next: number | null }>,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.flushHeaders();
  let page = first;
  try {
    for (;;) {
      const text = page.entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      if (text !== '' && !res.write(text) && !(await drained(res))) return;
      if (page.next === null) break;
      page = await readFrom(page.next);
    }
  } catch {
    // Redis lost halfway: the response ends short; the client sees no final newline-terminated page and can resume from an offset.
    if (!res.destroyed) res.destroy();
    return;
  }
  res.end();
}
