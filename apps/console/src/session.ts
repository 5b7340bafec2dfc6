import type { JobRequest } from './types';

/**
 * What the console keeps, in this browser tab's sessionStorage only (gone
 * when the tab closes): the API key, and the request of each job created in
 * this session, since the API's status does not include the request and the
 * "copy as" snippets need it.
 */

const KEY = 'datagen.console.apiKey';
const REQUEST = 'datagen.console.request.';

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the key lives in memory only
  }
}

export function savedKey(): string | null {
  return storage()?.getItem(KEY) ?? null;
}

export function saveKey(key: string): void {
  storage()?.setItem(KEY, key);
}

/** Signing out forgets the key and every request kept in this tab. */
export function forgetSession(): void {
  const store = storage();
  if (store === null) return;
  for (const name of Object.keys(store)) if (name === KEY || name.startsWith(REQUEST)) store.removeItem(name);
}

export function saveRequest(jobId: string, request: JobRequest): void {
  try {
    storage()?.setItem(REQUEST + jobId, JSON.stringify(request));
  } catch {
    // over the quota (a thousand long seeds): the snippets fall back to placeholders
  }
}

export function savedRequest(jobId: string): JobRequest | null {
  const text = storage()?.getItem(REQUEST + jobId);
  if (!text) return null;
  try {
    return JSON.parse(text) as JobRequest;
  } catch {
    return null;
  }
}
