import { classifyAddress, ConfigError, loadConfig, refusedAddress, tenantOf, webhookRetries, webhookUrlProblem } from '@datagen/core';

/** The SSRF guard's classifier, the submit-time check, the retry schedule and the webhook settings: pure. */

describe('classifyAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['::127.0.0.1', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)?.kind).toBe(kind);
  });

  it.each(['1.1.1.1', '8.8.8.8', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '169.253.255.255', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450::1', '::ffff:1.1.1.1', '64:ff9b::101:101', 'fe7f::1', 'fbff::1'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address)).toEqual({ kind: 'public', range: '' });
    },
  );

  it('answers null for what is not an IP address', () => {
    for (const text of ['localhost', 'example.com', '1.2.3', '1.2.3.4.5', '::g', '256.1.1.1', '']) expect(classifyAddress(text)).toBeNull();
  });

  it('says why in words, naming the range', () => {
    expect(refusedAddress('127.0.0.1')).toBe('127.0.0.1 is a loopback address (127.0.0.0/8)');
    expect(refusedAddress('::ffff:7f00:1')).toBe('::ffff:7f00:1 is a loopback address (IPv4-mapped 127.0.0.1 in 127.0.0.0/8)');
    expect(refusedAddress('0.0.0.0')).toBe('0.0.0.0 is an unspecified address (0.0.0.0/8)');
    expect(refusedAddress('100.64.1.1')).toMatch(/carrier-grade NAT/);
    expect(refusedAddress('8.8.8.8')).toBeNull();
  });
});

describe('webhookUrlProblem (submit time: no DNS)', () => {
  it.each([
    ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address.*WEBHOOK_ALLOW_PRIVATE=true/],
    ['http://[::1]/', /::1 is a loopback address/],
    ['http://[::ffff:127.0.0.1]/', /IPv4-mapped 127\.0\.0\.1/],
    ['http://10.1.2.3/', /private/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[fd00::1]/', /unique-local/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://0.0.0.0:8080/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    // The WHATWG parser turns these spellings of 127.0.0.1 into the dotted form first.
    ['http://2130706433/', /loopback/],
    ['http://0x7f.1/', /loopback/],
    ['ftp://example.com/hook', /http:\/\/ or https:\/\//],
    ['file:///etc/passwd', /http:\/\/ or https:\/\//],
    ['not a url', /http:\/\/ or https:\/\//],
  ])('refuses %s', (url, reason) => {
    expect(webhookUrlProblem(url, false)).toMatch(reason);
  });

  it('leaves names to the delivery, and allows private literals when told to', () => {
    expect(webhookUrlProblem('https://hooks.example.com/datagen?token=x', false)).toBeNull();
    expect(webhookUrlProblem('http://localhost:8080/hook', false)).toBeNull(); // resolved, and refused, at delivery
    expect(webhookUrlProblem('http://127.0.0.1:9/hook', true)).toBeNull();
    expect(webhookUrlProblem('ftp://127.0.0.1/', true)).toMatch(/http/);
  });
});

describe('webhookRetries', () => {
  it('spans about a day with the default base of 10 s', () => {
    const { attempts, delaysMs, lastAttemptAfterMs } = webhookRetries(10_000);
    expect(attempts).toBe(14);
    expect(delaysMs.slice(0, 4)).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(delaysMs.at(-1)).toBe(10_000 * 2 ** 12);
    expect(lastAttemptAfterMs).toBe(81_910_000); // 22 h 45 min 10 s
    expect(lastAttemptAfterMs).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(lastAttemptAfterMs + delaysMs.at(-1)! * 2).toBeGreaterThan(24 * 3600 * 1000); // one more would not fit
  });

  it('keeps the span with a small base (tests): more, shorter retries', () => {
    const { attempts, delaysMs, lastAttemptAfterMs } = webhookRetries(100);
    expect(delaysMs.slice(0, 3)).toEqual([100, 200, 400]);
    expect(attempts).toBe(20);
    expect(lastAttemptAfterMs).toBeGreaterThan(12 * 3600 * 1000);
    expect(lastAttemptAfterMs).toBeLessThanOrEqual(24 * 3600 * 1000);
  });
});

describe('webhook settings', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('are off by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      url: undefined,
      urlsByTenant: {},
      secret: undefined,
      allowPrivate: false,
      progressIntervalMs: 5_000,
      concurrency: 8,
      retryBaseMs: 10_000,
    });
  });

  it('keep per-key URLs by tenant id, never by key', () => {
    const config = loadConfig({ WEBHOOK_SECRET: secret, WEBHOOK_URLS: JSON.stringify({ 'key-a': 'https://a.example/hook', 'key-b': 'http://b.example/x' }) });
    expect(config.webhooks.urlsByTenant).toEqual({ [tenantOf('key-a')]: 'https://a.example/hook', [tenantOf('key-b')]: 'http://b.example/x' });
    expect(JSON.stringify(config.webhooks)).not.toContain('key-a');
  });

  it.each([
    [{ WEBHOOK_URL: 'https://a.example/hook' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_URLS: '{"k":"https://a.example/"}' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: 'not-whsec' }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: `whsec_${Buffer.alloc(8).toString('base64')}` }, 'WEBHOOK_SECRET'],
    [{ WEBHOOK_SECRET: secret, WEBHOOK_URL: 'ftp://a.example/' }, 'WEBHOOK_URL'],
    [{ WEBHOOK_SECRET: secret, WEBHOOK_URL: `https://a.example/${'x'.repeat(2000)}` }, 'WEBHOOK_URL'],
    [{ WEBHOOK_SECRET: secret, WEBHOOK_URLS: 'not json' }, 'WEBHOOK_URLS'],
    [{ WEBHOOK_SECRET: secret, WEBHOOK_URLS: '["https://a.example/"]' }, 'WEBHOOK_URLS'],
    [{ WEBHOOK_SECRET: secret, WEBHOOK_URLS: '{"secret-key":"gopher://a/"}' }, 'WEBHOOK_URLS'],
    [{ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE'],
    [{ WEBHOOK_RETRY_BASE_MS: '1' }, 'WEBHOOK_RETRY_BASE_MS'],
  ])('stop with a message naming the variable (case %#)', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${variable}:`));
  });

  it('never repeat a key in an error', () => {
    expect(() => loadConfig({ WEBHOOK_SECRET: secret, WEBHOOK_URLS: '{"secret-key":"gopher://a/"}' })).toThrow(new RegExp(tenantOf('secret-key')));
    try {
      loadConfig({ WEBHOOK_SECRET: secret, WEBHOOK_URLS: '{"secret-key":"gopher://a/"}' });
    } catch (error) {
      expect(String(error)).not.toContain('secret-key');
    }
  });
});
