import { createHash } from 'node:crypto';

/**
 * The tenant id stored with a job: a hash of the API key that created it, so
 * Redis never holds a key itself. The API's auth and the configuration (keys
 * named in WEBHOOK_URLS) compute it the same way, here.
 */
export function tenantOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 32);
}
