import PiClient from 'withpi';

/**
 * Exit codes of the CLI (also in the README):
 * 0 done; 1 the API or the job failed; 2 bad usage or a bad input file;
 * 3 the API cannot be reached; 4 the API rejected the key; 130 interrupted
 * (Ctrl-C: the job was cancelled).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unauthorized: 4, interrupted: 130 } as const;

/** An error with a message for the user and an exit code; printed as `datagen: message`, never with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What the request was about, for messages: a job id makes a 404 mean "no such job". */
export interface ErrorContext {
  baseURL: string;
  jobId?: string;
  /** A dataset name makes a 404 mean "no such dataset". */
  dataset?: string;
  /** Rewrites a 422 entry's location into the user's terms (an option, a line of the seeds file). */
  describeField?: (loc: Array<string | number>) => string | undefined;
}

/** Any failure of a call to the API, as a CliError the user can act on. */
export function toCliError(error: unknown, context: ErrorContext): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof PiClient.APIConnectionError) {
    if (error instanceof PiClient.APIConnectionTimeoutError) {
      return new CliError(`cannot reach the datagen API at ${context.baseURL}: the request timed out`, EXIT.unreachable);
    }
    return unreachable(context.baseURL, error.cause ?? error);
  }
  if (error instanceof PiClient.APIError && typeof error.status === 'number') {
    return fromStatus(error.status, (error.error as { detail?: unknown } | undefined)?.detail, context);
  }
  if (isConnectionFailure(error)) return unreachable(context.baseURL, error);
  return new CliError(error instanceof Error ? error.message : String(error));
}

/** An HTTP error answer (from the SDK, or from a stream read with fetch). */
export function fromStatus(status: number, detail: unknown, context: ErrorContext): CliError {
  const said = typeof detail === 'string' ? detail : undefined;
  switch (status) {
    case 401:
      return new CliError('the API rejected the key: set WITHPI_API_KEY or --api-key', EXIT.unauthorized);
    case 404:
      if (context.jobId !== undefined && said !== undefined && said !== 'No such route') {
        return new CliError(`no job ${context.jobId} (for this API key)`);
      }
      if (context.dataset !== undefined && said !== undefined && said !== 'No such route') return new CliError(`${said} (for this API key)`);
      return new CliError(
        `the datagen API is not at ${context.baseURL} (it answered 404${said !== undefined ? `: ${said}` : ''}): check --url or PI_CLIENT_BASE_URL, e.g. http://localhost:8080/v1`,
        EXIT.unreachable,
      );
    case 422:
      return new CliError(`the API rejected the request:\n${validationLines(detail, context).join('\n')}`, EXIT.usage);
    case 503:
      return new CliError(`the datagen API cannot reach its job store (Redis) right now; try again shortly${said !== undefined ? ` (${said})` : ''}`);
  }
  return new CliError(`the API answered ${status}${said !== undefined ? `: ${said}` : ''}`);
}

const FIELD_OPTIONS: Record<string, string> = {
  application_description: '--description',
  num_inputs_to_generate: '-n',
  seeds: '--seeds',
  batch_size: '--batch-size',
  economy: '--economy',
  webhook_url: '--webhook-url',
  webhook_progress: '--webhook-progress',
  num_shots: '--num-shots',
  exploration_mode: '--mode',
  state: '--state',
};

function validationLines(detail: unknown, context: ErrorContext): string[] {
  if (!Array.isArray(detail)) return [`  ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`];
  return detail.map((entry: { loc?: unknown; msg?: unknown }) => {
    const loc = Array.isArray(entry.loc) ? (entry.loc as Array<string | number>) : [];
    const where = context.describeField?.(loc) ?? defaultField(loc);
    return `  ${where}: ${typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg)}`;
  });
}

function defaultField(loc: Array<string | number>): string {
  const [, field, ...rest] = loc;
  if (typeof field !== 'string') return loc.join('.') || 'request';
  return [FIELD_OPTIONS[field] ?? field, ...rest].join(' ');
}

function unreachable(baseURL: string, cause: unknown): CliError {
  return new CliError(`cannot reach the datagen API at ${baseURL}: ${connectionReason(cause)}`, EXIT.unreachable);
}

/** "connect ECONNREFUSED 127.0.0.1:1" out of node-fetch's and undici's wrappings. */
function connectionReason(cause: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = cause;
  let fallback = 'connection failed';
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const { code, message } = current as Error & { code?: string };
    const reason = /reason: (.*)$/.exec(message)?.[1];
    if (reason !== undefined) return reason;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return message.includes(code) ? message : `${code}: ${message}`;
    if (message !== '' && message !== 'fetch failed' && message !== 'Connection error.') fallback = message;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return fallback;
}

/** fetch's "TypeError: fetch failed" and node's socket errors. */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.message === 'fetch failed') return true;
  const code = (error as Error & { code?: string }).code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_SOCKET'].includes(code);
}
