/** RFC 4180: a field quoted when it holds a quote, a comma or a line break (or edge spaces), quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
