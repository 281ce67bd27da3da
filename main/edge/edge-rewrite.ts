/**
 * Keeps players on the edge: in an HLS playlist or a DASH MPD fetched through `/<app>/<host>/...`, an absolute URI
 * pointing at a listed origin becomes `/<app>/<its key>/<path>` (relative to the edge), and a root-relative URI
 * (`/path`, which a player would resolve against the edge's root) becomes `/<app>/<host>/path`. Relative URIs keep
 * working untouched; URIs to hosts not listed are left as they are (the edge cannot serve them).
 */
import type { EdgeOrigin, EdgeOrigins } from './edge-origins.js';

export interface RewriteContext {
  origins: EdgeOrigins;
  /** The origin the document came from. */
  from: EdgeOrigin;
  /** The edge path prefix it was asked under: `kCache`, `kVOD` or `kThumbnail`. */
  app: string;
}

const ABSOLUTE = /^(https?:)?\/\/([^/?#]*)(.*)$/i;

/** One URI as it should appear in a document served by the edge. */
export function rewriteUri(uri: string, c: RewriteContext): string {
  const m = ABSOLUTE.exec(uri);
  if (m) {
    const scheme = (m[1] ?? `${c.from.scheme}:`).toLowerCase();
    let target: URL;
    try {
      target = new URL(`${scheme}//${m[2]}/`);
    } catch {
      return uri;
    }
    const o = c.origins.forUrl(target);
    if (!o) return uri;
    const rest = m[3] as string;
    return `/${c.app}/${o.key}${rest.startsWith('/') ? rest : `/${rest}`}`;
  }
  if (uri.startsWith('/')) return `/${c.app}/${c.from.key}${uri}`;
  return uri;
}

/** An HLS playlist: URI lines and every `URI="..."` attribute. */
export function rewriteHls(text: string, c: RewriteContext): string {
  return text
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (t === '') return line;
      if (t.startsWith('#'))
        return line.replace(/URI="([^"]*)"/g, (_all, u: string) => `URI="${rewriteUri(u, c)}"`);
      return rewriteUri(t, c) + (line.endsWith('\r') ? '\r' : '');
    })
    .join('\n');
}

/** A DASH MPD: BaseURL and Location elements, and media, initialization, sourceURL and href attributes. */
export function rewriteMpd(text: string, c: RewriteContext): string {
  return text
    .replace(
      /(<(BaseURL|Location)\b[^>]*>)([^<]*)(<\/\2>)/g,
      (_all, open: string, _tag: string, uri: string, close: string) =>
        `${open}${rewriteXmlUri(uri, c)}${close}`,
    )
    .replace(
      /(\s(?:media|initialization|sourceURL|xlink:href|href)\s*=\s*")([^"]*)(")/g,
      (_all, pre: string, uri: string, post: string) => `${pre}${rewriteXmlUri(uri, c)}${post}`,
    );
}

function rewriteXmlUri(uri: string, c: RewriteContext): string {
  const t = uri.trim();
  // Only the scheme and authority are looked at; the rest (entities, $Number$ templates) is copied as it is.
  return t === '' ? uri : rewriteUri(t, c);
}
