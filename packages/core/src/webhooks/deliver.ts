import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupAddress, LookupOneOptions } from 'node:dns';
import { Webhook } from 'standardwebhooks';
import { ALLOW_PRIVATE_HINT, literalAddress, refusedAddress, refusedKind } from './address';
import type { WebhookJobData } from './queue';

/**
 * One delivery attempt of a webhook event: resolve the target's name, check
 * every address (address.ts) unless private targets are allowed, connect to
 * an address that was checked (the socket's lookup answers only those, so a
 * second resolution cannot swap in another: no DNS rebinding), sign as the
 * Standard Webhooks spec says, POST, and say how it went. Redirects are not
 * followed; the whole attempt has WEBHOOK_TIMEOUT_MS.
 */

export type DeliveryOutcome =
  /** A 2xx. */
  | { kind: 'delivered'; status: number }
  /** 410 Gone: the receiver wants no more; no retry. */
  | { kind: 'gone' }
  /** The guard refused the target (or the URL is not http(s)); no retry. */
  | { kind: 'refused'; reason: string }
  /** Anything else (no answer, another status, a name that does not resolve): retried. */
  | { kind: 'failed'; reason: string };

export interface DeliveryOptions {
  /** WEBHOOK_SECRET: `whsec_` and base64. */
  secret: string;
  allowPrivate: boolean;
  timeoutMs?: number;
  /** The resolver (tests); getaddrinfo, as any client, by default. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;
const USER_AGENT = 'datagen-webhooks/1';
/** The most of a receiver's answer read (for the failure reason); the rest is dropped. */
const ANSWER_BYTES = 1024;

const resolveAll = (host: string) => dnsLookup(host, { all: true, verbatim: true });

export async function deliverWebhook(data: WebhookJobData, options: DeliveryOptions): Promise<DeliveryOutcome> {
  let url: URL;
  try {
    url = new URL(data.url);
  } catch {
    return { kind: 'refused', reason: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'refused', reason: `${url.protocol} is not http: or https:` };

  const target = await checkedAddresses(url, options);
  if (target.kind !== 'addresses') return target;

  const body = JSON.stringify(data.event);
  // Signed with the attempt's time (whole seconds), which receivers hold to a few minutes of their clock.
  const now = new Date();
  const signature = new Webhook(options.secret).sign(data.id, now, body);
  return post(url, target.addresses, {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'webhook-id': data.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signature,
    'content-length': String(Buffer.byteLength(body)),
  }, body, options.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
}

type Checked = { kind: 'addresses'; addresses: LookupAddress[] } | Extract<DeliveryOutcome, { kind: 'refused' | 'failed' }>;

/** The addresses this attempt may connect to: a literal one, or those the name resolves to now, each checked. */
async function checkedAddresses(url: URL, options: DeliveryOptions): Promise<Checked> {
  const literal = literalAddress(url);
  if (literal !== null) {
    const refused = options.allowPrivate ? null : refusedAddress(literal);
    if (refused !== null) return { kind: 'refused', reason: `${refused}: ${ALLOW_PRIVATE_HINT}` };
    return { kind: 'addresses', addresses: [{ address: literal, family: literal.includes(':') ? 6 : 4 }] };
  }
  let resolved: LookupAddress[];
  try {
    resolved = await (options.resolve ?? resolveAll)(url.hostname);
  } catch (error) {
    return { kind: 'failed', reason: `${url.hostname} did not resolve (${errorCode(error)})` };
  }
  if (resolved.length === 0) return { kind: 'failed', reason: `${url.hostname} resolved to no address` };
  if (options.allowPrivate) return { kind: 'addresses', addresses: resolved };
  // Only the addresses that pass are ever connected to; none passing refuses the target.
  const allowed = resolved.filter((a) => refusedAddress(a.address) === null);
  if (allowed.length > 0) return { kind: 'addresses', addresses: allowed };
  const why = resolved.map((a) => `${a.address}, ${refusedKind(a.address)}`).join('; ');
  return { kind: 'refused', reason: `${url.hostname} resolves to ${why}: ${ALLOW_PRIVATE_HINT}` };
}

function post(url: URL, addresses: LookupAddress[], headers: Record<string, string>, body: string, timeoutMs: number): Promise<DeliveryOutcome> {
  // The socket's lookup: the checked addresses, and nothing a resolver might answer now.
  const lookup = (_host: string, opts: LookupOneOptions | { all: true }, callback: (...args: unknown[]) => void) => {
    if ('all' in opts && opts.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = client.request(url, {
      method: 'POST',
      headers,
      lookup: lookup as never,
      agent: false, // a fresh connection to a checked address each time, never a pooled one
    });
    const timer = setTimeout(() => {
      settle({ kind: 'failed', reason: `no answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => settle({ kind: 'failed', reason: `could not POST to ${url.host}: ${errorCode(error)}` }));
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      let answer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (answer.length < ANSWER_BYTES) answer += chunk;
        else response.destroy(); // enough to say why; the rest is not read
      });
      const done = () => settle(outcomeOf(status, response.headers.location, answer));
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.end(body);
  });
}

function outcomeOf(status: number, location: string | undefined, answer: string): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone' };
  const said = answer.trim().replace(/\s+/g, ' ').slice(0, 200);
  if (status >= 300 && status < 400) return { kind: 'failed', reason: `answered ${status} to ${location ?? '(no Location)'}; redirects are not followed` };
  return { kind: 'failed', reason: `answered ${status}${said === '' ? '' : `: ${said}`}` };
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : String(e.message ?? error);
}
