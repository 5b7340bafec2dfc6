/**
 * A seeds file, in whichever shape the CLI reads (a port of
 * apps/cli/src/seeds.ts, which the console does not import: it is another
 * app, and it reads files from disk):
 * - a JSON array of strings: `["first seed", "second seed"]`
 * - JSON Lines: a JSON string a line, or an object with an `input` (or
 *   `seed`, `text`, `prompt`) string, as `datagen generate` writes them
 * - plain text: one seed a line (blank lines skipped)
 * Any problem names the file and, where it can, the line.
 */

export interface Seeds {
  file: string;
  seeds: string[];
  /** 1-based line (or, in a JSON array, item) of each seed. */
  origins: string[];
}

export class SeedsError extends Error {}

const OBJECT_FIELDS = ['input', 'seed', 'text', 'prompt'] as const;

export function parseSeeds(file: string, content: string): Seeds {
  const text = content.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw bad(file, 'it is empty (leave the seeds empty to let the job write its own first examples)');
  const trimmed = text.trimStart();
  const result = trimmed.startsWith('[') ? fromJsonArray(file, trimmed) : looksLikeJsonLines(text) ? fromJsonLines(file, text) : fromPlainLines(text);
  if (result.seeds.length === 0) throw bad(file, 'it holds no seeds');
  return { file, ...result };
}

/** Seeds pasted one a line: blank lines skipped, each line trimmed. */
export function seedsFromLines(text: string): Omit<Seeds, 'file'> {
  return fromPlainLines(text);
}

function fromJsonArray(file: string, text: string): Omit<Seeds, 'file'> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(file, `it starts like a JSON array but is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(value)) throw bad(file, 'it is not a JSON array of strings');
  const seeds: string[] = [];
  const origins: string[] = [];
  value.forEach((item, i) => {
    const seed = seedOf(item);
    if (seed === undefined) throw bad(file, `item ${i + 1} is ${describe(item)}, not a string`);
    if (seed.trim() === '') throw bad(file, `item ${i + 1} is an empty string`);
    seeds.push(seed);
    origins.push(`item ${i + 1}`);
  });
  return { seeds, origins };
}

/** JSON Lines when the first non-blank line is a JSON string or an object with a text field. */
function looksLikeJsonLines(text: string): boolean {
  const first = text.split(/\r?\n/).find((line) => line.trim() !== '');
  if (first === undefined) return false;
  try {
    return seedOf(JSON.parse(first)) !== undefined;
  } catch {
    return false;
  }
}

function fromJsonLines(file: string, text: string): Omit<Seeds, 'file'> {
  const seeds: string[] = [];
  const origins: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw bad(file, `line ${i + 1} is not valid JSON (${(error as Error).message}); the file looked like JSON Lines from its first line`);
    }
    const seed = seedOf(value);
    if (seed === undefined) throw bad(file, `line ${i + 1} is ${describe(value)}, not a string or an object with an "input" string`);
    if (seed.trim() === '') throw bad(file, `line ${i + 1} is an empty string`);
    seeds.push(seed);
    origins.push(`line ${i + 1}`);
  });
  return { seeds, origins };
}

function fromPlainLines(text: string): Omit<Seeds, 'file'> {
  const seeds: string[] = [];
  const origins: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    seeds.push(line.trim());
    origins.push(`line ${i + 1}`);
  });
  return { seeds, origins };
}

function seedOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const field of OBJECT_FIELDS) if (typeof record[field] === 'string') return record[field] as string;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function bad(file: string, problem: string): SeedsError {
  return new SeedsError(`Bad seeds file ${file}: ${problem}.`);
}
