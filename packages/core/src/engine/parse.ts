/**
 * Defensive parsing of what a model returned for a batch. Models wrap,
 * number, quote, truncate and refuse; none of that may crash a job. The
 * result is the clean inputs found, and a reason when there were none.
 */

export interface ParsedBatch {
  inputs: string[];
  /** Why the batch yielded nothing usable, when it did not. */
  problem?: string;
}

/** No single generated input is allowed to be longer than this. */
export const MAX_INPUT_CHARS = 20_000;

// A marker followed by whitespace, or a bare marker with nothing after it (an empty numbered line).
const LEADING_MARKER = /^\s*(?:(?:\d{1,3}|[a-zA-Z])[.):]|[-*•·]|#{1,6}|(?:input|example)\s*\d*\s*[:.-])(?:\s+|$)/i;
const REFUSAL =
  /^\s*(?:i['’]?m sorry|i am sorry|i can(?:no|['’])t|i cannot|i won['’]?t|i will not|sorry,|as an ai\b|i['’]?m (?:not able|unable)|i am (?:not able|unable))/i;

/** A model's own framing line around a text list ("Here are 5 new inputs:"), not an input. */
const PREAMBLE = /^\s*(?:sure|certainly|of course|okay|ok|here (?:are|is)|here's|below (?:are|is))\b.{0,80}:\s*$/i;

export function parseBatch(candidates: unknown): ParsedBatch {
  // A plain-text answer that opens with a refusal is a refusal, not a list of inputs.
  // (Inside a structured list, "I can't log in" is a valid user input and is kept.)
  if (typeof candidates === 'string' && REFUSAL.test(candidates)) {
    return { inputs: [], problem: 'the model refused to write inputs' };
  }
  const raw = collectStrings(candidates, 0);
  if (raw === null) return { inputs: [], problem: 'the model returned no inputs' };
  const inputs: string[] = [];
  for (const item of raw) {
    const cleaned = cleanInput(item);
    if (cleaned !== '') inputs.push(cleaned);
  }
  if (inputs.length === 0) {
    const refused = raw.some((s) => REFUSAL.test(s));
    return { inputs, problem: refused ? 'the model refused to write inputs' : 'the model returned only empty inputs' };
  }
  return { inputs };
}

/** Strips list markers and wrapping quotes a model adds around an input. */
export function cleanInput(text: string): string {
  let s = text.trim();
  s = s.replace(LEADING_MARKER, '');
  s = stripWrappingQuotes(s.trim()).trim();
  if (s.length > MAX_INPUT_CHARS) s = s.slice(0, MAX_INPUT_CHARS);
  return s;
}

function stripWrappingQuotes(s: string): string {
  const pairs: Array<[string, string]> = [
    ['"', '"'],
    ["'", "'"],
    ['“', '”'],
    ['‘', '’'],
    ['`', '`'],
  ];
  for (const [open, close] of pairs) {
    if (s.length >= 2 && s.startsWith(open) && s.endsWith(close)) {
      const inner = s.slice(open.length, s.length - close.length);
      if (!inner.includes(open) && !inner.includes(close)) return inner;
    }
  }
  return s;
}

/** Finds the list of candidate strings in whatever shape the model produced. */
function collectStrings(value: unknown, depth: number): string[] | null {
  if (depth > 4 || value === null || value === undefined) return null;
  if (typeof value === 'string') return stringsFromText(value, depth);
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (typeof item === 'string') out.push(item);
      else if (item !== null && typeof item === 'object') {
        // [{ "input": "..." }] and similar one-field objects
        const text = Object.values(item as Record<string, unknown>).find((v) => typeof v === 'string');
        if (typeof text === 'string') out.push(text);
      }
    }
    return out;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of ['inputs', 'items', 'data', 'examples', 'seeds']) {
      if (key in record) return collectStrings(record[key], depth + 1);
    }
    const firstArray = Object.values(record).find(Array.isArray);
    if (firstArray !== undefined) return collectStrings(firstArray, depth + 1);
  }
  return null;
}

/** A text answer: JSON (maybe in a code fence, maybe truncated), else one input per line. */
function stringsFromText(text: string, depth: number): string[] | null {
  const unfenced = text.replace(/^\s*```[a-zA-Z]*\s*\n?/, '').replace(/\n?```\s*$/, '').trim();
  if (unfenced === '') return null;
  if (unfenced.startsWith('{') || unfenced.startsWith('[')) {
    try {
      return collectStrings(JSON.parse(unfenced), depth + 1);
    } catch {
      return salvageTruncatedJson(unfenced);
    }
  }
  return unfenced.split(/\r?\n/).filter((line) => line.trim() !== '' && !PREAMBLE.test(line));
}

/** Recovers the complete string literals of a JSON array cut off mid-way. */
function salvageTruncatedJson(text: string): string[] {
  const out: string[] = [];
  const literal = /"((?:[^"\\]|\\.)*)"\s*(?=[,\]}])/g;
  for (const match of text.matchAll(literal)) {
    try {
      const value = JSON.parse(`"${match[1]}"`) as string;
      // keys such as "inputs" are followed by ':', which the lookahead excludes
      out.push(value);
    } catch {
      // a broken escape: skip this one literal
    }
  }
  return out;
}

export interface Verdict {
  good: boolean;
  reason: string;
}

/**
 * A critic's answer: one "good" / "bad: reason" per judged input, in order.
 * Answers null when the answer cannot be trusted (wrong count, unknown
 * verdicts): the engine then keeps the inputs unjudged rather than lose them.
 */
export function parseVerdicts(candidates: unknown, expected: number): Verdict[] | null {
  const { inputs } = parseBatch(candidates);
  if (inputs.length !== expected) return null;
  const verdicts: Verdict[] = [];
  for (const text of inputs) {
    const match = /^(good|bad)\b[\s:.,-]*(.*)$/is.exec(text.trim());
    if (match === null) return null;
    verdicts.push({ good: match[1]!.toLowerCase() === 'good', reason: match[2]!.trim() || (match[1]!.toLowerCase() === 'good' ? '' : 'judged bad') });
  }
  return verdicts;
}
