import { isIP } from 'node:net';

/**
 * Which addresses a webhook may be sent to: the SSRF guard's classifier.
 * Pure: it parses and classifies an IP address; the delivery (deliver.ts)
 * applies it to every address a name resolves to, at each attempt, and the
 * API to a literal address in a submitted URL.
 */

export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'site-local'
  | 'shared'
  | 'multicast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved';

export interface AddressClass {
  kind: AddressKind;
  /** The range it is in, in words ('127.0.0.0/8', 'IPv4-mapped 10.0.0.0/8'); empty for a public address. */
  range: string;
}

/** The address for a webhook: anything but a public address needs WEBHOOK_ALLOW_PRIVATE=true. */
export function isPublic(c: AddressClass): boolean {
  return c.kind === 'public';
}

type Range4 = [base: number, bits: number, kind: AddressKind, name: string];

const V4: Range4[] = [
  [v4('0.0.0.0'), 8, 'unspecified', '0.0.0.0/8'],
  [v4('10.0.0.0'), 8, 'private', '10.0.0.0/8'],
  [v4('100.64.0.0'), 10, 'shared', '100.64.0.0/10 (carrier-grade NAT)'],
  [v4('127.0.0.0'), 8, 'loopback', '127.0.0.0/8'],
  [v4('169.254.0.0'), 16, 'link-local', '169.254.0.0/16'],
  [v4('172.16.0.0'), 12, 'private', '172.16.0.0/12'],
  [v4('192.0.0.0'), 24, 'reserved', '192.0.0.0/24'],
  [v4('192.0.2.0'), 24, 'documentation', '192.0.2.0/24'],
  [v4('192.88.99.0'), 24, 'reserved', '192.88.99.0/24'],
  [v4('192.168.0.0'), 16, 'private', '192.168.0.0/16'],
  [v4('198.18.0.0'), 15, 'benchmarking', '198.18.0.0/15'],
  [v4('198.51.100.0'), 24, 'documentation', '198.51.100.0/24'],
  [v4('203.0.113.0'), 24, 'documentation', '203.0.113.0/24'],
  [v4('224.0.0.0'), 4, 'multicast', '224.0.0.0/4'],
  [v4('240.0.0.0'), 4, 'reserved', '240.0.0.0/4 (and the broadcast address)'],
];

/** IPv4 as an unsigned 32-bit number; null unless dotted-quad decimal. */
export function parseIPv4(text: string): number | null {
  if (isIP(text) !== 4) return null;
  return v4(text);
}

function v4(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function classify4(n: number): AddressClass {
  for (const [base, bits, kind, range] of V4) {
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return { kind, range };
  }
  return { kind: 'public', range: '' };
}

/** IPv6 (brackets and a zone id allowed) as 16 bytes; null if it is not one. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIP(s) !== 6) return null;
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes its two groups.
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const n = parseIPv4(last);
    if (n === null) return null;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

const hasPrefix = (bytes: Uint8Array, prefix: number[], bits: number): boolean => {
  for (let bit = 0; bit < bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[byte]! & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
};

const embedded4 = (bytes: Uint8Array, at: number): number => ((bytes[at]! * 256 + bytes[at + 1]!) * 256 + bytes[at + 2]!) * 256 + bytes[at + 3]!;
const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The class of an IPv4 address embedded in IPv6 (mapped, NAT64, 6to4): the embedded address's, named as such. */
function viaV4(how: string, n: number): AddressClass {
  const inner = classify4(n);
  return inner.kind === 'public' ? inner : { kind: inner.kind, range: `${how} ${dotted(n)} in ${inner.range}` };
}

function classify6(b: Uint8Array): AddressClass {
  const zeroUpTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeroUpTo(16)) return { kind: 'unspecified', range: '::/128' };
  if (zeroUpTo(15) && b[15] === 1) return { kind: 'loopback', range: '::1/128' };
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return viaV4('IPv4-mapped', embedded4(b, 12));
  if (zeroUpTo(12)) return { kind: 'reserved', range: '::/96 (IPv4-compatible, deprecated)' };
  if (hasPrefix(b, [0x00, 0x64, 0xff, 0x9b], 96)) return viaV4('NAT64', embedded4(b, 12));
  if (hasPrefix(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return { kind: 'private', range: '64:ff9b:1::/48 (local-use NAT64)' };
  if (hasPrefix(b, [0x01, 0x00], 64)) return { kind: 'reserved', range: '100::/64 (discard)' };
  if (hasPrefix(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return { kind: 'documentation', range: '2001:db8::/32' };
  if (hasPrefix(b, [0x20, 0x01, 0x00, 0x00], 32)) return { kind: 'reserved', range: '2001::/32 (Teredo)' };
  if (hasPrefix(b, [0x20, 0x02], 16)) return viaV4('6to4', embedded4(b, 2));
  if (hasPrefix(b, [0xfc], 7)) return { kind: 'unique-local', range: 'fc00::/7' };
  if (hasPrefix(b, [0xfe, 0x80], 10)) return { kind: 'link-local', range: 'fe80::/10' };
  if (hasPrefix(b, [0xfe, 0xc0], 10)) return { kind: 'site-local', range: 'fec0::/10 (deprecated)' };
  if (hasPrefix(b, [0xff], 8)) return { kind: 'multicast', range: 'ff00::/8' };
  return { kind: 'public', range: '' };
}

/** The class of an IPv4 or IPv6 address (IPv6 may come in brackets, as in a URL); null when `text` is not an IP address. */
export function classifyAddress(text: string): AddressClass | null {
  const n = parseIPv4(text);
  if (n !== null) return classify4(n);
  const bytes = parseIPv6(text);
  return bytes === null ? null : classify6(bytes);
}

/** What kind of address `address` is when it may not be a webhook's target ('a loopback address (127.0.0.0/8)'); null when it may. */
export function refusedKind(address: string): string | null {
  const c = classifyAddress(address);
  if (c === null) return 'not an IP address';
  if (isPublic(c)) return null;
  return `${c.kind === 'unspecified' ? 'an unspecified' : `a ${c.kind}`} address (${c.range})`;
}

/** Why `address` may not be a webhook's target, in words; null when it may (a public address). */
export function refusedAddress(address: string): string | null {
  const kind = refusedKind(address);
  return kind === null ? null : `${address} is ${kind}`;
}

/** A URL's host as an IP address without brackets, or null when it is a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? null : host;
}

/** The advice every refusal ends with. */
export const ALLOW_PRIVATE_HINT = 'webhooks may not target private, loopback, link-local or other non-public addresses unless WEBHOOK_ALLOW_PRIVATE=true';

/**
 * What is wrong with a webhook URL before anything is resolved: not http(s),
 * or a literal address that is not public while private targets are not
 * allowed. Null when nothing is (names are checked at each delivery).
 */
export function webhookUrlProblem(text: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (allowPrivate) return null;
  const literal = literalAddress(url);
  const refused = literal === null ? null : refusedAddress(literal);
  return refused === null ? null : `${refused}: ${ALLOW_PRIVATE_HINT}`;
}
