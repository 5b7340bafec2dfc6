/** How the engine's messages quote text and errors (the run and its economy rounds alike). */

/** Text on one line, cut to `max` characters. */
export function clip(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
