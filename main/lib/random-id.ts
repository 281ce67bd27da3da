/** Random identifiers and secrets, from the OS's cryptographic source. */
import crypto from 'node:crypto';

/** `bytes` random bytes as base64url (tokens, keys, tickets). */
export function randomToken(bytes: number): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** `bytes` random bytes as hex (temporary file names). */
export function randomHex(bytes: number): string {
  return crypto.randomBytes(bytes).toString('hex');
}

/** Whether two secrets are equal, in time that does not depend on where they differ (or on their lengths). */
export function equalSecrets(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
