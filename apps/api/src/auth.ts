import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { tenantOf } from '@datagen/core';
import { HttpError } from './errors';

/**
 * `x-api-key` on every route of the API. Each key is a tenant; the tenant id
 * stored with a job is a hash of the key, so Redis never holds a key itself.
 */
export function requireApiKey(apiKeys: readonly string[]): RequestHandler {
  const accepted = new Map(apiKeys.map((key) => [key, tenantOf(key)]));
  return (req, res, next) => {
    const key = req.header('x-api-key');
    if (key === undefined || key === '') return next(new HttpError(401, 'Missing API key: send it in the x-api-key header.'));
    const tenant = accepted.get(key);
    if (tenant === undefined) return next(new HttpError(401, 'Invalid API key.'));
    res.locals.tenant = tenant;
    next();
  };
}

/** The hash of a key that a job stores as its tenant (in core: the configuration maps keys to tenants too). */
export { tenantOf };

/** HTTP basic auth for the admin UI. */
export function basicAuth(user: string, password: string): RequestHandler {
  const expected = Buffer.from(`${user}:${password}`);
  return (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="datagen admin"');
    res.status(401).json({ detail: 'Admin credentials required.' });
  };
}
