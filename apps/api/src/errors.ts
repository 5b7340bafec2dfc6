import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ZodError } from 'zod';
import {
  DatasetBusyError,
  DatasetNotFoundError,
  IdempotencyConflictError,
  IdempotencyPendingError,
  InvalidCursorError,
  EconomyUnavailableError,
  isRedisUnavailable,
  JobEndedError,
  JobNotFoundError,
  QuotaExceededError,
  withRedisTimeout,
  type RedisClientState,
} from '@datagen/core';

/**
 * Errors that become HTTP answers. Every error answer is JSON with a
 * `detail`, never a stack trace.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
  }
}

export const notFound = (what = 'Not found') => new HttpError(404, what);

/** Redis cannot be reached: answer 503 at once rather than hang (core's RedisUnavailableError answers the same). */
export class ServiceUnavailableError extends HttpError {
  constructor() {
    super(503, 'The job store (Redis) is unreachable; try again shortly.');
  }
}

/** FastAPI-style validation errors, as the hosted service answers them. */
export function validationError(error: ZodError, where: 'body' | 'query', input: unknown): HttpError {
  const detail = error.issues.map((issue) => ({
    loc: [where, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    msg: issue.message,
    type: issueType(issue, valueAt(input, issue.path)),
  }));
  return new HttpError(422, detail);
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function issueType(issue: ZodError['issues'][number], value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'missing';
      return issue.expected === 'int' ? 'int_from_float' : `${issue.expected}_type`;
    case 'too_small':
      return issue.origin === 'string' ? 'string_too_short' : issue.origin === 'array' ? 'too_short' : 'greater_than_equal';
    case 'too_big':
      return issue.origin === 'string' ? 'string_too_long' : issue.origin === 'array' ? 'too_long' : 'less_than_equal';
    case 'invalid_value':
      return 'enum';
    default:
      return 'value_error';
  }
}

/** Rejects a promise that has not settled in time, so no request waits on a stuck Redis: a RedisUnavailableError, a 503. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withRedisTimeout(promise, ms);
}

export const unknownRoute: RequestHandler = (_req, _res, next) => next(notFound('No such route'));

/** `redis`: the client the routes use, whose state tells a lost connection from a misuse (`isRedisUnavailable`). */
export function errorHandler(logger: Logger, redis?: RedisClientState): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const { status, detail } = toHttp(error, redis);
    if (status >= 500 && status !== 503) logger.error({ err: error }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    // A quota refusal says when to come back (seconds, as RFC 9110's Retry-After).
    if (error instanceof QuotaExceededError) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    res.status(status).json({ detail });
  };
}

function toHttp(error: unknown, redis: RedisClientState | undefined): { status: number; detail: unknown } {
  if (error instanceof HttpError) return { status: error.status, detail: error.detail };
  // The job service's failures, by type.
  if (error instanceof JobNotFoundError) return { status: 404, detail: error.message };
  if (error instanceof JobEndedError || error instanceof IdempotencyConflictError || error instanceof IdempotencyPendingError) {
    return { status: 409, detail: error.message };
  }
  if (error instanceof QuotaExceededError) return { status: 429, detail: error.message };
  if (error instanceof DatasetNotFoundError) return { status: 404, detail: error.message };
  if (error instanceof DatasetBusyError) return { status: 409, detail: error.message };
  if (error instanceof EconomyUnavailableError) return { status: 422, detail: [{ loc: ['body', 'economy'], msg: error.message, type: 'value_error' }] };
  if (error instanceof InvalidCursorError) return { status: 422, detail: [{ loc: ['query', 'cursor'], msg: error.message, type: 'value_error' }] };
  // An error that carries a 4xx status is the request's fault, whoever raised it: body-parser
  // (http-errors), Express's router (400 for a path parameter with a broken %-escape), ...
  const status = clientErrorStatus(error);
  if (status !== undefined) return { status, detail: clientErrorDetail(error, status) };
  // Redis away, full, failing over, or our own timeout on it (RedisUnavailableError): try again later.
  if (isRedisUnavailable(error, redis)) return { status: 503, detail: new ServiceUnavailableError().detail };
  return { status: 500, detail: 'Internal server error' };
}

/** The 4xx status an error carries (`status` or `statusCode`, as http-errors sets both), if it carries one. */
export function clientErrorStatus(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = status ?? statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 499 ? code : undefined;
}

/**
 * What a client is told about its error: the error's message unless it is marked
 * not to be shown (http-errors' `expose`, which is true for every 4xx it makes),
 * else the status's own text.
 */
function clientErrorDetail(error: unknown, status: number): string {
  const { expose, message } = error as { expose?: unknown; message?: unknown };
  if (expose !== false && typeof message === 'string' && message.trim() !== '') return message;
  return STATUS_CODES[status] ?? `HTTP ${status}`;
}
