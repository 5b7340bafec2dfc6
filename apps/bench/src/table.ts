/**
 * One table for the whole run: a row per figure, with what it was compared
 * with (measured in the same run), the ratio, the target and whether it was met.
 */
export interface Row {
  /** Section number and name, e.g. "1 dedup". */
  section: string;
  measure: string;
  value: string;
  /** The other side of the comparison, measured in the same run. */
  versus?: string;
  ratio?: string;
  target?: string;
  /** true met, false missed, undefined: a figure without a target. */
  met?: boolean;
}

export interface SectionResult {
  name: string;
  rows: Row[];
  /** Lines printed under the table and written to the report (how it was measured, details). */
  notes: string[];
  seconds: number;
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  num: (n: number, digits = 2) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }),
  s: (seconds: number, digits = 2) => `${fmt.num(seconds, digits)} s`,
  ms: (ms: number, digits = 1) => `${fmt.num(ms, digits)} ms`,
  pct: (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`,
  ratio: (x: number, digits = 2) => `${fmt.num(x, digits)}x`,
  mb: (mb: number) => `${fmt.num(mb, 0)} MB`,
};

const HEADER = ['#', 'measure', 'measured', 'compared with (same run)', 'ratio', 'target', 'met'];

function cells(row: Row): string[] {
  return [row.section, row.measure, row.value, row.versus ?? '', row.ratio ?? '', row.target ?? '', row.met === undefined ? '' : row.met ? 'yes' : 'NO'];
}

/** The table as aligned Markdown (readable in a terminal too). */
export function renderTable(rows: Row[]): string {
  const lines = rows.map(cells).map((line) => line.map((cell) => cell.replaceAll('|', '\\|')));
  const widths = HEADER.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const format = (line: string[]) => `| ${line.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [format(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}
