/**
 * A push target's URL: where a channel's stream also goes (the partner's Kaltura entry, YouTube, another
 * appliance). Its path and query hold the destination's stream key, so it is a secret: checked here, stored in the
 * data directory (private to the user), and shown or logged only masked.
 */

export type PushProtocol = 'rtmp' | 'rtmps' | 'srt';

export class PushTargetUrlError extends Error {}

const MAX_URL_LENGTH = 2048;

/** The target's protocol, or a clear error: rtmp://, rtmps:// or srt:// with a host, nothing else. */
export function checkPushUrl(text: string): PushProtocol {
  if (text.length > MAX_URL_LENGTH)
    throw new PushTargetUrlError(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(text))
    throw new PushTargetUrlError('the URL holds spaces or control characters');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new PushTargetUrlError('not a URL: give rtmp://, rtmps:// or srt://host:port...');
  }
  const protocol = u.protocol.replace(/:$/, '');
  if (protocol !== 'rtmp' && protocol !== 'rtmps' && protocol !== 'srt')
    throw new PushTargetUrlError(`${protocol}:// is not a push protocol: give rtmp://, rtmps:// or srt://`);
  if (u.hostname === '') throw new PushTargetUrlError('the URL names no host');
  if (protocol === 'srt' && u.port === '') throw new PushTargetUrlError('an srt:// URL needs a port');
  if (u.username !== '' || u.password !== '')
    throw new PushTargetUrlError('credentials in the URL are not supported: put the stream key in the path');
  return protocol;
}

/**
 * A Kaltura entry's broadcast URL as Kaltura shows it (`rtmp://host:1935/kLive/?p=..&e=<entry>&i=0&t=<token>`)
 * lacks the stream name that an RTMP publish needs: the target gets `/<entry>_1` after it, as an encoder would, so
 * the entry's primary broadcast URL alone is a Kaltura target. Any other URL is kept as given.
 */
export function completeKalturaUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return text;
  }
  if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') return text;
  if (!/^\/kLive\/?$/.test(u.pathname)) return text;
  const e = u.searchParams.get('e');
  const t = u.searchParams.get('t');
  // Already followed by a stream name (`…&t=<token>/<entry>_1`), or not a broadcast URL.
  if (!e || !t || t.includes('/') || !/^(?:[A-Za-z0-9_.]{1,64}-)?[01]_[0-9a-z]{8}$/.test(e)) return text;
  const entryId = e.replace(/^.*-/, '');
  return `${text}/${entryId}_1`;
}

/**
 * The URL as shown and logged: scheme, host and port, the first path segment (an RTMP application such as `live2`),
 * and the rest (the stream key, SRT's streamid and passphrase) masked.
 */
export function maskPushUrl(text: string): string {
  try {
    const u = new URL(text);
    const host = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    const [app, ...rest] = u.pathname.split('/').filter(Boolean);
    const secret = rest.length > 0 || u.search !== '';
    return `${u.protocol}//${host}${app ? `/${app}` : ''}${secret ? '/••••' : ''}`;
  } catch {
    return '••••';
  }
}

/** Replaces every appearance of `url` (and of its path and query) in `text` by the masked URL. */
export function redactPushUrl(text: string, url: string): string {
  let out = text.split(url).join(maskPushUrl(url));
  try {
    const u = new URL(url);
    for (const part of [u.pathname + u.search, u.search.slice(1)])
      if (part.length > 4) out = out.split(part).join('/••••');
  } catch {
    // Nothing more to hide.
  }
  return out;
}
