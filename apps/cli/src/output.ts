import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from './errors';

/**
 * Where generated inputs go, one at a time as they arrive (so an
 * interrupted run keeps everything it received):
 * - jsonl: `{"input": "..."}` a line (the default)
 * - csv: a header `input`, then one quoted-as-needed field a row (RFC 4180)
 * - lines: the input itself a line, its own line breaks turned into spaces
 */

export const FORMATS = ['jsonl', 'csv', 'lines'] as const;
export type Format = (typeof FORMATS)[number];

/** --format, else from the --out extension (.csv, .txt), else jsonl. */
export function formatFor(format: string | undefined, out: string | undefined): Format {
  if (format !== undefined) return format as Format;
  const ext = out === undefined ? '' : path.extname(out).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.txt' || ext === '.lines') return 'lines';
  return 'jsonl';
}

export function formatRecord(format: Format, input: string): string {
  switch (format) {
    case 'jsonl':
      return `${JSON.stringify({ input })}\n`;
    case 'csv':
      return `${csvField(input)}\r\n`;
    case 'lines':
      return `${input.replace(/\r?\n|\r/g, ' ')}\n`;
  }
}

/** RFC 4180: quoted when it holds a quote, a comma or a line break (or edge spaces), quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface Output {
  /** Where it goes, for messages: the file, or "stdout". */
  readonly name: string;
  readonly count: number;
  write(input: string): void;
  close(): void;
}

/**
 * Opens the output at once (before any job starts, so a bad path fails
 * first) and writes each record to a file synchronously: what arrived is on
 * disk even if the process is interrupted the next moment.
 */
export function openOutput(file: string | undefined, format: Format): Output {
  const raw = openRawOutput(file);
  let count = 0;
  if (format === 'csv') raw.write('input\r\n');
  return {
    name: file ?? 'stdout',
    get count() {
      return count;
    },
    write(input: string) {
      raw.write(formatRecord(format, input));
      count++;
    },
    close: () => raw.close(),
  };
}

/** A file (or stdout), opened at once and written synchronously, text as given. */
export function openRawOutput(file: string | undefined): { write(text: string): void; close(): void } {
  if (file === undefined) {
    // stdout may be a pipe: process.stdout buffers what a slow reader has not taken yet
    return { write: (text) => void process.stdout.write(text), close: () => {} };
  }
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'its directory does not exist' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot write ${file}: ${why}`, EXIT.usage);
  }
  return { write: (text) => void writeSync(fd, text), close: () => closeSync(fd) };
}
