/**
 * Signed playback URLs ("secure streaming"): a query string, signed with the current server key, that opens
 * every URL under one path prefix (a channel's publishing point) until it expires, optionally only for viewers
 * in one address, CIDR or range. Manifests carry the verified parameters into their child URLs, so a player that
 * was handed one signed manifest URL can fetch the variants and segments below it.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { parseAllowList, type AllowList } from '../lib/ip-allow-list.js';
import type { SigningKey } from './signing-keys.js';

/** How long a signed URL lasts when the caller doesn't say (DuraCloud's default): 8 hours, in seconds. */
export const DEFAULT_SIGNED_URL_TTL_S = 8 * 60 * 60;

/**
 * The query parameters a signature consists of, in canonical order (`ip` only when bound, `gen` only after the
 * channel's signed URLs were revoked once).
 */
export const SIGNATURE_PARAMS = ['exp', 'scope', 'ip', 'gen', 'kid', 'sig'] as const;

export class SignedUrlError extends Error {
  readonly code = 'INVALID_SIGN_OPTIONS';
}

export interface SignOptions {
  /** A path prefix, e.g. '/0_abcdefgh/0_abcdefgh.isml/': starts and ends with '/', no '..'. */
  scope: string;
  /** Unix seconds. */
  expiresAt: number;
  /** One address, CIDR or `first-last` range (IPv4 or IPv6); validated with parseAllowList, exactly one entry. */
  ipRange?: string;
  /** The scope's signature generation (0, the default, is not written into the URL). */
  generation?: number;
}

export type Denial =
  | 'missing'
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'revoked'
  | 'wrong-scope'
  | 'wrong-ip';

const MAX_SCOPE_LENGTH = 1024;
/** Unix seconds up to 9999999999 (year 2286): a 13-digit value is almost certainly milliseconds. */
const MAX_EXP = 9_999_999_999;
const EXP_RE = /^(0|[1-9][0-9]{0,9})$/;
const KID_RE = /^[a-z0-9]{8}$/;
const GEN_RE = /^[1-9][0-9]{0,8}$/;
/** HMAC-SHA256 is 32 bytes: 43 base64url characters, unpadded. */
const SIG_RE = /^[A-Za-z0-9_-]{43}$/;

function scopeProblem(scope: string): string | undefined {
  if (scope.length > MAX_SCOPE_LENGTH) return `longer than ${MAX_SCOPE_LENGTH} characters`;
  if (!scope.startsWith('/') || !scope.endsWith('/')) return 'must start and end with "/"';
  if (scope.includes('..')) return 'must not contain ".."';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(scope)) return 'must not contain control characters or backslashes';
  return undefined;
}

/** One allow-list entry, or why it isn't one. */
function parseIpRange(text: string): { list: AllowList } | { problem: string } {
  if (text.includes(',') || text.trim() === '')
    return { problem: 'must be exactly one address, CIDR or range' };
  try {
    return { list: parseAllowList(text) };
  } catch (err) {
    return { problem: err instanceof Error ? err.message : 'not an address, CIDR or range' };
  }
}

function signature(
  key: SigningKey,
  scope: string,
  exp: string,
  ip: string | undefined,
  gen: string | undefined,
): string {
  return crypto
    .createHmac('sha256', Buffer.from(key.secret, 'base64url'))
    .update(`${scope}\n${exp}\n${ip ?? ''}${gen === undefined ? '' : `\n${gen}`}`, 'utf8')
    .digest('base64url');
}

interface SignatureValues {
  exp: string;
  scope: string;
  ip: string | undefined;
  gen: string | undefined;
  kid: string;
  sig: string;
}

function encode(p: SignatureValues): string {
  const parts = [`exp=${p.exp}`, `scope=${encodeURIComponent(p.scope)}`];
  if (p.ip !== undefined) parts.push(`ip=${encodeURIComponent(p.ip)}`);
  if (p.gen !== undefined) parts.push(`gen=${p.gen}`);
  parts.push(`kid=${p.kid}`, `sig=${p.sig}`);
  return parts.join('&');
}

/**
 * The query string (without '?') that authorises every URL under `scope`: `exp=<unix>&scope=<enc>&ip=<enc, when
 * bound>&gen=<generation, when not 0>&kid=<key id>&sig=<base64url HMAC-SHA256 over "scope\nexp\nip" (+ "\ngen")>`.
 */
export function signQuery(key: SigningKey, o: SignOptions): string {
  const bad = scopeProblem(o.scope);
  if (bad) throw new SignedUrlError(`scope ${JSON.stringify(o.scope)} ${bad}`);
  if (!Number.isSafeInteger(o.expiresAt) || o.expiresAt < 0 || o.expiresAt > MAX_EXP) {
    throw new SignedUrlError(`expiresAt must be whole unix seconds, got ${o.expiresAt}`);
  }
  let ip: string | undefined;
  if (o.ipRange !== undefined) {
    ip = o.ipRange.trim();
    const parsed = parseIpRange(ip);
    if ('problem' in parsed)
      throw new SignedUrlError(`ipRange ${JSON.stringify(o.ipRange)}: ${parsed.problem}`);
  }
  const generation = o.generation ?? 0;
  if (!Number.isSafeInteger(generation) || generation < 0 || generation > 999_999_999)
    throw new SignedUrlError(`generation must be a whole number from 0, got ${generation}`);
  const gen = generation === 0 ? undefined : String(generation);
  const exp = String(o.expiresAt);
  return encode({ exp, scope: o.scope, ip, gen, kid: key.id, sig: signature(key, o.scope, exp, ip, gen) });
}

/** True when a decoded path holds a '.' or '..' segment, a backslash or a NUL: never inside a scope. */
function traverses(path: string): boolean {
  return path.includes('\0') || path.split(/[/\\]/).some((s) => s === '..' || s === '.');
}

/**
 * Checks a request: `path` is the URL path (decoded, no query); `query` the parsed query; `clientIp` the viewer's
 * address; `generation` the current signature generation of what `path` reaches (a URL of an older one was
 * revoked). Constant-time signature comparison.
 */
export function verifyRequest(
  keys: { find(id: string): SigningKey | undefined },
  path: string,
  query: Record<string, string | string[] | undefined>,
  clientIp: string | undefined,
  now: number = Math.floor(Date.now() / 1000),
  generation = 0,
):
  | {
      ok: true;
      suffix: string; /* the '?...' to carry into child URLs: exactly the signature params, re-encoded in canonical order */
    }
  | { ok: false; denial: Denial; reason: string /* human-readable, no secrets */ } {
  const deny = (denial: Denial, reason: string) => ({ ok: false as const, denial, reason });

  const values: Partial<Record<(typeof SIGNATURE_PARAMS)[number], string>> = {};
  for (const name of SIGNATURE_PARAMS) {
    const v = query[name];
    if (Array.isArray(v)) return deny('malformed', `parameter "${name}" is repeated`);
    if (v !== undefined) values[name] = v;
  }
  const { exp, scope, ip, gen, kid, sig } = values;
  if (exp === undefined || scope === undefined || kid === undefined || sig === undefined) {
    const absent = (['exp', 'scope', 'kid', 'sig'] as const).filter((n) => values[n] === undefined);
    return absent.length === 4 && ip === undefined
      ? deny('missing', 'the URL is not signed')
      : deny('missing', `signature parameter(s) missing: ${absent.join(', ')}`);
  }

  if (!EXP_RE.test(exp)) return deny('malformed', '"exp" must be whole unix seconds');
  const scopeBad = scopeProblem(scope);
  if (scopeBad) return deny('malformed', `"scope" ${scopeBad}`);
  let allowed: AllowList | undefined;
  if (ip !== undefined) {
    const parsed = parseIpRange(ip);
    if ('problem' in parsed) return deny('malformed', `"ip" ${parsed.problem}`);
    if (ip !== ip.trim()) return deny('malformed', '"ip" has surrounding whitespace');
    allowed = parsed.list;
  }
  if (gen !== undefined && !GEN_RE.test(gen)) return deny('malformed', '"gen" must be a whole number from 1');
  if (!KID_RE.test(kid)) return deny('malformed', '"kid" must be 8 characters [a-z0-9]');
  if (!SIG_RE.test(sig)) return deny('malformed', '"sig" must be 43 base64url characters');

  const key = keys.find(kid);
  if (!key) return deny('unknown-key', `signing key ${kid} is unknown or no longer honoured`);

  const expected = Buffer.from(signature(key, scope, exp, ip, gen), 'ascii');
  if (!crypto.timingSafeEqual(expected, Buffer.from(sig, 'ascii'))) {
    return deny('bad-signature', 'the signature does not match the signed parameters');
  }

  if (now >= Number(exp)) {
    return deny('expired', `the URL expired at ${new Date(Number(exp) * 1000).toISOString()}`);
  }
  if (Number(gen ?? 0) !== generation) {
    return deny('revoked', 'the signed URLs of this channel were revoked; ask for a new link');
  }
  if (!path.startsWith(scope) || traverses(path)) {
    return deny('wrong-scope', `the URL is signed for ${scope} only`);
  }
  if (allowed && !allowed.allows(clientIp)) {
    return deny('wrong-ip', `the URL is signed for ${ip} only, not ${clientIp ?? 'an unknown address'}`);
  }
  return { ok: true, suffix: `?${encode({ exp, scope, ip, gen, kid, sig })}` };
}

/** A bare address from a socket or a forwarded hop (`[v6]:port` and `v4:port` accepted); v4-mapped IPv6 unwrapped. */
function bareAddress(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let a = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(a);
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(a);
  if (bracketed?.[1] !== undefined) a = bracketed[1];
  else if (v4port?.[1] !== undefined) a = v4port[1];
  if (net.isIP(a) === 0) return undefined;
  if (a.toLowerCase().startsWith('::ffff:') && net.isIPv4(a.slice(7))) return a.slice(7);
  return a;
}

/**
 * The viewer's address: the socket's, unless it belongs to a trusted proxy, then the right-most X-Forwarded-For
 * hop that is not a trusted proxy. An empty `trustedProxies` trusts no one (unlike an empty allow list, which
 * allows everyone). Behind a trusted proxy: no header gives the proxy's own address; an unparsable hop reached
 * before any untrusted one gives `undefined` (unknown, so no address-bound URL opens); a chain of only trusted
 * hops gives the left-most. v4-mapped IPv6 addresses come back as IPv4.
 */
export function clientAddress(
  remote: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: AllowList,
): string | undefined {
  const peer = bareAddress(remote);
  if (peer === undefined) return undefined;
  if (trustedProxies.any || !trustedProxies.allows(peer)) return peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  if (header === undefined || header.trim() === '') return peer;
  const hops = header.split(',');
  let nearest = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = bareAddress(hops[i]);
    if (hop === undefined) return undefined;
    if (!trustedProxies.allows(hop)) return hop;
    nearest = hop;
  }
  return nearest;
}
