import PiClient from 'withpi';
import { CliError, EXIT, fromStatus, isConnectionFailure, toCliError, type ErrorContext } from './errors';

/**
 * The CLI's view of the API: the withpi SDK for the JSON routes (it already
 * knows the base URL, the key and the error classes), and fetch for the two
 * text streams, which the SDK only hands back whole when the job has ended.
 */

export const DEFAULT_BASE_URL = 'http://localhost:8080/v1';

export interface Connection {
  baseURL: string;
  apiKey: string;
  client: PiClient;
}

export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
}

/** `--url` / `--api-key`, else the SDK's own variables PI_CLIENT_BASE_URL and WITHPI_API_KEY. */
export function connect(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const given = options.url ?? nonEmpty(env.PI_CLIENT_BASE_URL) ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CliError(`not a URL: "${given}" (--url or PI_CLIENT_BASE_URL), e.g. ${DEFAULT_BASE_URL}`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`not an http(s) URL: "${given}" (--url or PI_CLIENT_BASE_URL), e.g. ${DEFAULT_BASE_URL}`, EXIT.usage);
  }
  const baseURL = given.replace(/\/+$/, '');
  const apiKey = options.apiKey ?? nonEmpty(env.WITHPI_API_KEY);
  if (apiKey === undefined) {
    throw new CliError('no API key: set WITHPI_API_KEY or --api-key (a development server accepts dev-key)', EXIT.unauthorized);
  }
  return { baseURL, apiKey, client: new PiClient({ baseURL, apiKey, maxRetries: 2, timeout: 30_000 }) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Runs one SDK call, turning its failures into messages the user can act on. */
export async function call<T>(connection: Connection, context: Omit<ErrorContext, 'baseURL'>, run: (client: PiClient) => Promise<T>): Promise<T> {
  try {
    return await run(connection.client);
  } catch (error) {
    throw toCliError(error, { baseURL: connection.baseURL, ...context });
  }
}

/**
 * Reads one of a job's line streams (`data` or `messages`, or the JSON lines
 * of `items` or `rejected`) line by line as the lines arrive, until the
 * server ends it or `signal` aborts it.
 */
export async function readStream(
  connection: Connection,
  jobId: string,
  which: 'data' | 'messages' | 'items?format=jsonl' | 'rejected?format=jsonl',
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const url = `${connection.baseURL}/data/generate/${encodeURIComponent(jobId)}/${which}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { 'x-api-key': connection.apiKey, accept: which.endsWith('jsonl') ? 'application/x-ndjson' : 'text/plain' }, signal });
  } catch (error) {
    if (signal?.aborted === true) throw error;
    throw toCliError(error, { baseURL: connection.baseURL, jobId });
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    let detail: unknown = undefined;
    try {
      detail = (JSON.parse(text) as { detail?: unknown }).detail;
    } catch {
      detail = undefined;
    }
    throw fromStatus(response.status, detail, { baseURL: connection.baseURL, jobId });
  }
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    }
  } catch (error) {
    if (signal?.aborted === true) throw error;
    if (isConnectionFailure(error) || (error instanceof Error && /terminated|aborted|socket/i.test(error.message))) {
      throw new StreamInterrupted(error);
    }
    throw error;
  }
  pending += decoder.decode();
  if (pending !== '') onLine(pending);
}

/** The stream stopped before the server ended it (a restart, a proxy timeout): the caller reconnects. */
export class StreamInterrupted extends Error {
  constructor(cause: unknown) {
    super('the stream was interrupted', { cause });
    this.name = 'StreamInterrupted';
  }
}

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['DONE', 'ERROR', 'CANCELLED']);
export const JOB_STATES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'] as const;
export const EXPLORATION_MODES = ['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS'] as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
