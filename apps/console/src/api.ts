import type { Item, JobRequest, JobState, JobStatus, Rejected, ValidationIssue } from './types';

/**
 * The API over HTTP, from the page it serves: every call sends the key in
 * `x-api-key`; error answers become an ApiError with the API's own words.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** `detail` of the answer: a sentence, or the 422 issues. */
    readonly detail: string | ValidationIssue[],
  ) {
    super(typeof detail === 'string' ? detail : `The request did not validate (${detail.length} problem${detail.length === 1 ? '' : 's'}).`);
  }

  get issues(): ValidationIssue[] {
    return typeof this.detail === 'string' ? [] : this.detail;
  }
}

/** The API cannot be reached at all (network error, server down). */
export class UnreachableError extends Error {}

export interface Page<T> {
  entries: T[];
  /** The `rel="next"` address of the Link header, if any. */
  next: string | null;
}

export const API_BASE = '/v1/data/generate';

export class Api {
  constructor(
    readonly key: string,
    private readonly origin = window.location.origin,
  ) {}

  /** A page of the key's jobs; `url` is a Link header's next address. */
  listJobs(options: { state?: JobState | ''; limit?: number; url?: string }): Promise<Page<JobStatus>> {
    if (options.url) return this.page<JobStatus>(options.url);
    const query = new URLSearchParams();
    if (options.state) query.set('state', options.state);
    if (options.limit) query.set('limit', String(options.limit));
    const qs = query.toString();
    return this.page<JobStatus>(`${API_BASE}${qs ? `?${qs}` : ''}`);
  }

  /** A job's full status; `null` when it has not changed since `etag` (304). */
  async job(jobId: string, etag?: string): Promise<{ status: JobStatus; etag: string | null } | null> {
    const res = await this.send(`${API_BASE}/${encodeURIComponent(jobId)}`, { headers: etag ? { 'if-none-match': etag } : {} });
    if (res.status === 304) return null;
    return { status: (await res.json()) as JobStatus, etag: res.headers.get('etag') };
  }

  async create(request: JobRequest): Promise<JobStatus> {
    const res = await this.send(API_BASE, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    return (await res.json()) as JobStatus;
  }

  /** Cancels a queued or running job; answers the API's sentence. */
  async cancel(jobId: string): Promise<string> {
    const res = await this.send(`${API_BASE}/${encodeURIComponent(jobId)}`, { method: 'DELETE' });
    return (await res.json()) as string;
  }

  items(jobId: string, offset: number, limit = 1000): Promise<Page<Item>> {
    return this.page<Item>(`${API_BASE}/${encodeURIComponent(jobId)}/items?offset=${offset}&limit=${limit}`);
  }

  rejected(jobId: string, offset: number, limit = 1000): Promise<Page<Rejected>> {
    return this.page<Rejected>(`${API_BASE}/${encodeURIComponent(jobId)}/rejected?offset=${offset}&limit=${limit}`);
  }

  /** Every entry from `offset` on, following the Link headers. */
  async all<T>(first: () => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    let page = await first();
    for (;;) {
      out.push(...page.entries);
      if (page.next === null) return out;
      page = await this.page<T>(page.next);
    }
  }

  private async page<T>(url: string): Promise<Page<T>> {
    const res = await this.send(url, {});
    return { entries: (await res.json()) as T[], next: nextLink(res.headers.get('link')) };
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const url = new URL(path, this.origin);
    if (url.origin !== this.origin) throw new Error(`refusing to send the key to another origin: ${url.origin}`);
    let res: Response;
    try {
      res = await fetch(url, { ...init, cache: 'no-store', headers: { ...(init.headers as Record<string, string>), 'x-api-key': this.key } });
    } catch (error) {
      throw new UnreachableError(`The API cannot be reached (${(error as Error).message}).`);
    }
    if (res.ok || res.status === 304) return res;
    let detail: string | ValidationIssue[] = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { detail?: unknown };
      if (typeof body.detail === 'string' || Array.isArray(body.detail)) detail = body.detail as string | ValidationIssue[];
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, detail);
  }
}

/** The `rel="next"` address of a Link header (`<url>; rel="next"`). */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part.trim());
    if (match) return match[1]!;
  }
  return null;
}
