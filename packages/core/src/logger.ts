import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The process logger: JSON lines (pino), with credentials redacted wherever
 * they would appear (request headers, provider keys). Prompts and inputs are
 * never logged, only job ids and counts.
 */
export const REDACTED_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  '*.apiKey',
];

export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
