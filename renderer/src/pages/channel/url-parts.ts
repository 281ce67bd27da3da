/** Long URLs in two parts: a head that may be cut short on screen, and the tail that tells them apart. */

/** Where the part that matters starts: the query (`?`) or path segment (`&`, `/`) where `url` and `other` differ. */
export function splitUrl(url: string, other?: string): { head: string; tail: string } {
  let at: number;
  if (other !== undefined && other !== url) {
    let i = 0;
    while (i < url.length && url[i] === other[i]) i++;
    // Back to the start of the parameter (or path segment) that differs.
    const before = url.slice(0, i);
    at = Math.max(before.lastIndexOf('?'), before.lastIndexOf('&'), before.lastIndexOf('/'));
    if (at < 0) at = i;
  } else {
    const q = url.indexOf('?');
    at = q >= 0 ? q : url.lastIndexOf('/');
    if (at < 0) at = 0;
  }
  return { head: url.slice(0, at), tail: url.slice(at) };
}

/** `url` with every occurrence of `secret` masked. */
export function maskIn(url: string, secret: string | undefined): string {
  return secret ? url.split(secret).join('••••••') : url;
}
