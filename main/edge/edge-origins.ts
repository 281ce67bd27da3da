/**
 * The edge's allow list (`--edge-origins`): the only hosts `/kCache/<host>/...` may fetch from. `host[:port]` is
 * fetched over https, `http://host[:port]` over plain http (a parent appliance or edge on the LAN). Anything else
 * is refused before a single upstream request. A host name that resolves to a private, loopback or link-local
 * address is refused at connect time: such an address is reached only when it is listed literally.
 */
import net from 'node:net';

export class EdgeOriginsError extends Error {
  readonly code = 'INVALID_EDGE_ORIGINS';
}

export interface EdgeOrigin {
  /** How URLs name it: `host` or `host:port` (lower case; IPv6 in brackets), as in `/kCache/<key>/...`. */
  key: string;
  scheme: 'http' | 'https';
  /** Host name or address, without brackets. */
  host: string;
  port: number;
  /** The host is an IP address literal (so a private or loopback one is allowed: it was listed on purpose). */
  literal: boolean;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port`; undefined when it is none of these. */
function splitHostPort(s: string): { host: string; port?: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return undefined;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
    if (net.isIPv6(host) === false) return undefined;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon !== -1 && s.indexOf(':') !== colon) return undefined; // a bare IPv6 address needs brackets
    host = colon === -1 ? s : s.slice(0, colon);
    portText = colon === -1 ? undefined : s.slice(colon + 1);
    if (!net.isIPv4(host) && !HOST_NAME.test(host)) return undefined;
  }
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** The key URLs use for a host and port under a scheme: the port only when it is not the scheme's default. */
export function originKey(scheme: 'http' | 'https', host: string, port: number): string {
  const h = net.isIPv6(host) ? `[${host}]` : host;
  return port === (scheme === 'https' ? 443 : 80) ? h : `${h}:${port}`;
}

/** Parses one entry of `--edge-origins`. */
export function parseEdgeOrigin(entry: string): EdgeOrigin {
  const raw = entry.trim().toLowerCase();
  let scheme: 'http' | 'https' = 'https';
  let rest = raw;
  if (raw.startsWith('http://')) {
    scheme = 'http';
    rest = raw.slice('http://'.length);
  } else if (raw.startsWith('https://')) {
    rest = raw.slice('https://'.length);
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  const hp = rest === '' || /[/?#@\s]/.test(rest) ? undefined : splitHostPort(rest);
  if (!hp)
    throw new EdgeOriginsError(
      `not an edge origin: ${JSON.stringify(entry.trim())} (give host[:port] for https, http://host[:port] for plain http; no path)`,
    );
  const port = hp.port ?? (scheme === 'https' ? 443 : 80);
  return {
    key: originKey(scheme, hp.host, port),
    scheme,
    host: hp.host,
    port,
    literal: net.isIP(hp.host) !== 0,
  };
}

/** The allow list: looked up by the `<origin-host>` of a /kCache/ URL, or by an absolute URL's scheme and host. */
export class EdgeOrigins {
  private readonly byKey = new Map<string, EdgeOrigin>();

  constructor(readonly list: readonly EdgeOrigin[]) {
    // https first: when a host is listed both ways, its URLs are fetched over https.
    for (const o of [...list].sort((a, b) => (a.scheme === b.scheme ? 0 : a.scheme === 'https' ? -1 : 1)))
      if (!this.byKey.has(o.key)) this.byKey.set(o.key, o);
  }

  /** Off when nothing is listed. */
  get enabled(): boolean {
    return this.list.length > 0;
  }

  /** The origin a /kCache/ URL names, or undefined when it is not listed. */
  find(key: string): EdgeOrigin | undefined {
    return this.byKey.get(key.toLowerCase());
  }

  /** The listed origin an absolute URL points at (same scheme, host and port), or undefined. */
  forUrl(url: URL): EdgeOrigin | undefined {
    const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
    if (!scheme) return undefined;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
    const o = this.byKey.get(originKey(scheme, host.toLowerCase(), port));
    return o && o.scheme === scheme ? o : undefined;
  }
}

/** Parses `--edge-origins` (comma-separated; empty: the edge is off). */
export function parseEdgeOrigins(text: string): EdgeOrigins {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return new EdgeOrigins(entries.map(parseEdgeOrigin));
}

const PRIVATE = new net.BlockList();
for (const [a, p] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(a, p, 'ipv4');
for (const [a, p] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(a, p, 'ipv6');

/** Whether an address is private, loopback, link-local, multicast or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const v = net.isIP(address);
  if (v === 4) return PRIVATE.check(address, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1] as string, 'ipv4');
    return PRIVATE.check(address, 'ipv6');
  }
  return true;
}
