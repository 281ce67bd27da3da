import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clientAddress,
  DEFAULT_SIGNED_URL_TTL_S,
  SignedUrlError,
  signQuery,
  verifyRequest,
  type SignOptions,
} from '../../main/access/signed-url.js';
import type { SigningKey } from '../../main/access/signing-keys.js';
import { parseAllowList } from '../../main/lib/ip-allow-list.js';

const key: SigningKey = {
  id: 'k1k1k1k1',
  secret: crypto.randomBytes(32).toString('base64url'),
  createdAt: 0,
};
const other: SigningKey = {
  id: 'k2k2k2k2',
  secret: crypto.randomBytes(32).toString('base64url'),
  createdAt: 0,
};
const keys = { find: (id: string) => [key, other].find((k) => k.id === id) };

const NOW = 1_700_000_000;
const SCOPE = '/0_abcdefgh/0_abcdefgh.isml/';
const PATH = `${SCOPE}video=800000/segment-12.ts`;

/** Parses a query string the way the HTTP server does: repeated names become arrays. */
function parse(qs: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(qs.replace(/^\?/, ''))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function sign(o: Partial<SignOptions> = {}, k: SigningKey = key): Record<string, string | string[]> {
  return parse(signQuery(k, { scope: SCOPE, expiresAt: NOW + 3600, ...o }));
}

function denial(
  q: Record<string, string | string[] | undefined>,
  opts: { path?: string; ip?: string; now?: number; generation?: number } = {},
) {
  const r = verifyRequest(
    keys,
    opts.path ?? PATH,
    q,
    opts.ip ?? '10.0.0.5',
    opts.now ?? NOW,
    opts.generation,
  );
  return r.ok ? 'ok' : r.denial;
}

describe('signQuery', () => {
  it('produces the documented parameters in canonical order', () => {
    const qs = signQuery(key, { scope: SCOPE, expiresAt: NOW + 60, ipRange: '10.0.0.0/24' });
    expect(qs).toMatch(
      /^exp=1700000060&scope=%2F0_abcdefgh%2F0_abcdefgh\.isml%2F&ip=10\.0\.0\.0%2F24&kid=k1k1k1k1&sig=[A-Za-z0-9_-]{43}$/,
    );
    const expected = crypto
      .createHmac('sha256', Buffer.from(key.secret, 'base64url'))
      .update(`${SCOPE}\n${NOW + 60}\n10.0.0.0/24`)
      .digest('base64url');
    expect(parse(qs).sig).toBe(expected);
    expect(signQuery(key, { scope: SCOPE, expiresAt: NOW + 60 })).not.toContain('ip=');
  });

  it('never puts the secret in the URL', () => {
    expect(signQuery(key, { scope: SCOPE, expiresAt: NOW })).not.toContain(key.secret);
  });

  it('rejects bad scopes, expiries and ranges', () => {
    const bad: SignOptions[] = [
      { scope: '0_a/', expiresAt: NOW },
      { scope: '/0_a', expiresAt: NOW },
      { scope: '/0_a/../0_b/', expiresAt: NOW },
      { scope: '/0_a/\n/', expiresAt: NOW },
      { scope: SCOPE, expiresAt: NOW + 0.5 },
      { scope: SCOPE, expiresAt: -1 },
      { scope: SCOPE, expiresAt: Date.now() }, // milliseconds by mistake
      { scope: SCOPE, expiresAt: NOW, ipRange: '' },
      { scope: SCOPE, expiresAt: NOW, ipRange: 'not-an-ip' },
      { scope: SCOPE, expiresAt: NOW, ipRange: '10.0.0.1, 10.0.0.2' },
      { scope: SCOPE, expiresAt: NOW, ipRange: '10.0.0.0/33' },
      { scope: SCOPE, expiresAt: NOW, ipRange: '10.0.0.9-10.0.0.1' },
    ];
    for (const o of bad) expect(() => signQuery(key, o), JSON.stringify(o)).toThrow(SignedUrlError);
  });

  it('exposes the 8-hour default validity', () => {
    expect(DEFAULT_SIGNED_URL_TTL_S).toBe(8 * 3600);
  });
});

describe('verifyRequest', () => {
  it('accepts a valid request and returns the canonical suffix', () => {
    const r = verifyRequest(keys, PATH, sign(), '10.0.0.5', NOW);
    expect(r).toEqual({ ok: true, suffix: `?${signQuery(key, { scope: SCOPE, expiresAt: NOW + 3600 })}` });
  });

  it('round-trips the suffix into child URLs, ignoring unrelated parameters', () => {
    const q = { ...sign({ ipRange: '10.0.0.0/8' }), t: '123', foo: ['a', 'b'] };
    const first = verifyRequest(keys, `${SCOPE}master.m3u8`, q, '10.1.2.3', NOW);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.suffix).not.toContain('foo');
    expect(first.suffix).not.toContain('t=');
    const child = new URL(`http://origin${SCOPE}video=800000/index.m3u8${first.suffix}`);
    const second = verifyRequest(
      keys,
      decodeURIComponent(child.pathname),
      parse(child.search),
      '10.1.2.3',
      NOW + 10,
    );
    expect(second).toEqual(first);
  });

  it('missing: unsigned, or a signature parameter absent', () => {
    expect(denial({})).toBe('missing');
    expect(denial({ t: '1' })).toBe('missing');
    for (const name of ['exp', 'scope', 'kid', 'sig']) {
      const q = sign();
      delete q[name];
      expect(denial(q), name).toBe('missing');
    }
    const r = verifyRequest(keys, PATH, {}, '10.0.0.5', NOW);
    expect(r.ok || r.reason).toBe('the URL is not signed');
  });

  it('malformed: repeated or unparsable parameters', () => {
    for (const name of ['exp', 'scope', 'kid', 'sig']) {
      const q = sign();
      q[name] = [q[name] as string, q[name] as string];
      expect(denial(q), name).toBe('malformed');
    }
    expect(denial({ ...sign({ ipRange: '10.0.0.5' }), ip: ['10.0.0.5', '10.0.0.5'] })).toBe('malformed');
    expect(denial(parse(`${signQuery(key, { scope: SCOPE, expiresAt: NOW + 60 })}&sig=x`))).toBe('malformed');
    const cases: Array<[string, string]> = [
      ['exp', 'soon'],
      ['exp', '1.5e9'],
      ['exp', '-1'],
      ['exp', '01700003600'],
      ['exp', ''],
      ['scope', '/0_abcdefgh/../'],
      ['scope', '/0_abcdefgh'],
      ['kid', 'K1K1K1K1'],
      ['kid', 'short'],
      ['sig', 'abc'],
      ['sig', '!'.repeat(43)],
      ['ip', 'nope'],
      ['ip', ''],
      ['ip', '10.0.0.5,10.0.0.6'],
      ['ip', ' 10.0.0.5'],
    ];
    for (const [name, value] of cases)
      expect(denial({ ...sign(), [name]: value }), `${name}=${value}`).toBe('malformed');
  });

  it('unknown-key', () => {
    const stranger: SigningKey = { ...key, id: 'zzzzzzzz' };
    expect(denial(sign({}, stranger))).toBe('unknown-key');
    expect(denial({ ...sign(), kid: 'abcdefgh' })).toBe('unknown-key');
  });

  it('bad-signature: any signed parameter tampered with', () => {
    const q = sign({ ipRange: '10.0.0.0/24' });
    const sig = q.sig as string;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(denial({ ...q, sig: flipped })).toBe('bad-signature');
    expect(denial({ ...q, exp: String(NOW + 999_999) })).toBe('bad-signature');
    expect(denial({ ...q, scope: '/' })).toBe('bad-signature');
    expect(denial({ ...q, scope: '/0_abcdefgh/' })).toBe('bad-signature');
    expect(denial({ ...q, ip: '0.0.0.0/0' })).toBe('bad-signature');
    expect(denial({ ...q, ip: '::/0' }, { ip: '2001:db8::1' })).toBe('bad-signature');
    // the binding cannot be stripped off...
    const { ip: _ip, ...unbound } = q;
    expect(denial(unbound, { ip: '192.168.9.9' })).toBe('bad-signature');
    // ...nor added to a URL that was signed without one
    expect(denial({ ...sign(), ip: '10.0.0.5' })).toBe('bad-signature');
    // another key's id on this signature
    expect(denial({ ...q, kid: other.id })).toBe('bad-signature');
  });

  it('bad-signature reason does not leak the expected signature or secret', () => {
    const q = sign();
    const r = verifyRequest(keys, PATH, { ...q, exp: String(NOW + 7200) }, '10.0.0.5', NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).not.toContain(key.secret);
    const real = parse(signQuery(key, { scope: SCOPE, expiresAt: NOW + 7200 })).sig as string;
    expect(r.reason).not.toContain(real);
  });

  it('revoked: a URL of an earlier signature generation; the generation is signed, and 0 is not written', () => {
    const first = sign();
    expect(first.gen).toBeUndefined();
    expect(denial(first)).toBe('ok');
    // The channel's links were revoked once: the first URL is refused, one made now opens it.
    expect(denial(first, { generation: 1 })).toBe('revoked');
    const second = sign({ generation: 1 });
    expect(second.gen).toBe('1');
    expect(denial(second, { generation: 1 })).toBe('ok');
    expect(denial(second, { generation: 2 })).toBe('revoked');
    // The generation cannot be edited into an old URL, nor taken out of a new one.
    expect(denial({ ...first, gen: '1' }, { generation: 1 })).toBe('bad-signature');
    const { gen: _gen, ...stripped } = second;
    expect(denial(stripped, { generation: 0 })).toBe('bad-signature');
    expect(denial({ ...second, gen: '01' }, { generation: 1 })).toBe('malformed');
    expect(() => signQuery(key, { scope: SCOPE, expiresAt: NOW + 1, generation: -1 })).toThrow(/generation/);
  });

  it('expired when now >= exp', () => {
    const q = sign({ expiresAt: NOW + 10 });
    expect(denial(q, { now: NOW + 9 })).toBe('ok');
    expect(denial(q, { now: NOW + 10 })).toBe('expired');
    expect(denial(q, { now: NOW + 100_000 })).toBe('expired');
  });

  it('wrong-scope: another channel, prefix tricks and traversal', () => {
    const q = sign();
    expect(denial(q, { path: '/0_zzzzzzzz/0_zzzzzzzz.isml/master.m3u8' })).toBe('wrong-scope');
    expect(denial(q, { path: '/0_abcdefgh/0_abcdefgh.isml.evil/master.m3u8' })).toBe('wrong-scope');
    expect(denial(q, { path: '/0_abcdefgh/0_abcdefgh.isml' })).toBe('wrong-scope');
    expect(denial(q, { path: '/0_abcdefghx/0_abcdefgh.isml/master.m3u8' })).toBe('wrong-scope');
    expect(denial(q, { path: `${SCOPE}../../0_zzzzzzzz/0_zzzzzzzz.isml/x.ts` })).toBe('wrong-scope');
    expect(denial(q, { path: `${SCOPE}..\\..\\secret` })).toBe('wrong-scope');
    expect(denial(q, { path: '/' })).toBe('wrong-scope');
    const short = parse(signQuery(key, { scope: '/0_a/0_a.isml/', expiresAt: NOW + 60 }));
    expect(denial(short, { path: '/0_a/0_a.isml/x.m3u8' })).toBe('ok');
    expect(denial(short, { path: '/0_a/0_a.isml.evil/x.m3u8' })).toBe('wrong-scope');
    expect(denial(short, { path: '/0_ab/0_ab.isml/x.m3u8' })).toBe('wrong-scope');
  });

  it('wrong-ip and address matching', () => {
    const single = sign({ ipRange: '10.0.0.5' });
    expect(denial(single, { ip: '10.0.0.5' })).toBe('ok');
    expect(denial(single, { ip: '10.0.0.6' })).toBe('wrong-ip');
    expect(denial(single, { ip: '::ffff:10.0.0.5' })).toBe('ok');
    expect(denial(single, { ip: '::ffff:10.0.0.6' })).toBe('wrong-ip');
    expect(denial(single, { ip: '2001:db8::5' })).toBe('wrong-ip');
    const r = verifyRequest(keys, PATH, single, undefined, NOW);
    expect(r.ok ? 'ok' : r.denial).toBe('wrong-ip');

    const cidr4 = sign({ ipRange: '192.168.1.0/24' });
    expect(denial(cidr4, { ip: '192.168.1.200' })).toBe('ok');
    expect(denial(cidr4, { ip: '192.168.2.1' })).toBe('wrong-ip');

    const v6 = sign({ ipRange: '2001:db8::1' });
    expect(denial(v6, { ip: '2001:db8::1' })).toBe('ok');
    expect(denial(v6, { ip: '2001:db8::2' })).toBe('wrong-ip');
    expect(denial(v6, { ip: '10.0.0.5' })).toBe('wrong-ip');

    const cidr6 = sign({ ipRange: '2001:db8:abcd::/48' });
    expect(denial(cidr6, { ip: '2001:db8:abcd:12::7' })).toBe('ok');
    expect(denial(cidr6, { ip: '2001:db8:abce::7' })).toBe('wrong-ip');

    const range = sign({ ipRange: '192.168.1.10-192.168.1.20' });
    expect(denial(range, { ip: '192.168.1.10' })).toBe('ok');
    expect(denial(range, { ip: '192.168.1.20' })).toBe('ok');
    expect(denial(range, { ip: '192.168.1.21' })).toBe('wrong-ip');
    expect(denial(range, { ip: '192.168.1.9' })).toBe('wrong-ip');

    const mappedRange = sign({ ipRange: '10.0.0.0/24' });
    expect(denial(mappedRange, { ip: '::ffff:10.0.0.77' })).toBe('ok');

    const unbound = sign();
    expect(denial(unbound, { ip: '203.0.113.9' })).toBe('ok');
    expect(verifyRequest(keys, PATH, unbound, undefined, NOW).ok).toBe(true);
  });
});

describe('clientAddress', () => {
  const proxies = parseAllowList('10.0.0.1, 10.0.0.2, fd00::/8');
  const none = parseAllowList('');

  it('uses the socket address when it is not a trusted proxy (spoofed XFF ignored)', () => {
    expect(clientAddress('203.0.113.7', '10.0.0.5', proxies)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7', '10.0.0.5', proxies)).toBe('203.0.113.7');
    expect(clientAddress('2001:db8::9', '10.0.0.5', proxies)).toBe('2001:db8::9');
  });

  it('trusts no one when the trusted-proxy list is empty', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.4', none)).toBe('10.0.0.1');
  });

  it('behind trusted proxies takes the right-most untrusted hop', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.4', proxies)).toBe('198.51.100.4');
    expect(clientAddress('::ffff:10.0.0.1', '198.51.100.4', proxies)).toBe('198.51.100.4');
    // the client may prepend anything; only what trusted proxies appended counts
    expect(clientAddress('10.0.0.1', '1.1.1.1, 198.51.100.4, 10.0.0.2', proxies)).toBe('198.51.100.4');
    expect(clientAddress('10.0.0.1', ['1.1.1.1, 198.51.100.4', '10.0.0.2'], proxies)).toBe('198.51.100.4');
    expect(clientAddress('fd00::1', '2001:db8::77, fd12::3', proxies)).toBe('2001:db8::77');
    expect(clientAddress('10.0.0.1', '198.51.100.4:51234', proxies)).toBe('198.51.100.4');
    expect(clientAddress('10.0.0.1', '[2001:db8::77]:443', proxies)).toBe('2001:db8::77');
    expect(clientAddress('10.0.0.1', '::ffff:198.51.100.4', proxies)).toBe('198.51.100.4');
  });

  it('behind a trusted proxy without a header, or with only trusted hops', () => {
    expect(clientAddress('10.0.0.1', undefined, proxies)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '  ', proxies)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.2');
  });

  it('garbage hops before any untrusted one give an unknown address', () => {
    expect(clientAddress('10.0.0.1', 'garbage', proxies)).toBeUndefined();
    expect(clientAddress('10.0.0.1', '198.51.100.4, unknown', proxies)).toBeUndefined();
    expect(clientAddress('10.0.0.1', '198.51.100.4,,', proxies)).toBeUndefined();
    expect(clientAddress('10.0.0.1', '198.51.100.4, 10.0.0.2, <script>', proxies)).toBeUndefined();
    // garbage to the left of the first untrusted hop is never looked at
    expect(clientAddress('10.0.0.1', 'garbage, 198.51.100.4', proxies)).toBe('198.51.100.4');
    // an unknown address never opens an address-bound URL
    const q = sign({ ipRange: '0.0.0.0/0' });
    const r = verifyRequest(keys, PATH, q, clientAddress('10.0.0.1', 'garbage', proxies), NOW);
    expect(r.ok ? 'ok' : r.denial).toBe('wrong-ip');
  });

  it('no or unparsable socket address', () => {
    expect(clientAddress(undefined, '198.51.100.4', proxies)).toBeUndefined();
    expect(clientAddress('not-an-ip', '198.51.100.4', proxies)).toBeUndefined();
  });

  it('a spoofed header cannot open an address-bound URL', () => {
    const q = sign({ ipRange: '10.0.0.5' });
    const spoofed = clientAddress('203.0.113.7', '10.0.0.5', proxies);
    expect(denial(q, { ip: spoofed ?? '' })).toBe('wrong-ip');
    const proxied = clientAddress('10.0.0.1', '203.0.113.7, 10.0.0.5', proxies);
    expect(denial(q, { ip: proxied ?? '' })).toBe('ok');
  });
});
