/**
 * Kaltura Session (KS) version 1, as the Kaltura Media Server generates it:
 *
 *   info = "<partnerId>;<partnerId>;<expiry unix s>;<type>;<random 0..32000>;<userId>;<privileges>"
 *   ks   = base64( hex(sha1(adminSecret + info)) + "|" + info )
 *
 * A KS is a bearer credential: never log it.
 */
import crypto from 'node:crypto';

/** Session types: USER 0, ADMIN 2 (the media server's). */
export const KS_TYPE_ADMIN = 2;

export const DEFAULT_KS_USER_ID = 'MediaServer';
export const DEFAULT_KS_EXPIRY_SECONDS = 86_400;
export const DEFAULT_KS_PRIVILEGES = 'disableentitlement,sessionkey:kalturaWowzaPermanentSessionKey';

export interface GenerateKsOptions {
  partnerId: number;
  adminSecret: string;
  userId?: string;
  /** 2 = ADMIN. */
  type?: number;
  expirySeconds?: number;
  privileges?: string;
  /** Milliseconds since the epoch; the expiry is counted from here. */
  now?: number;
}

export interface GeneratedKs {
  ks: string;
  /** When the KS expires, in milliseconds since the epoch (a whole second). */
  expiresAt: number;
}

export interface DecodedKs {
  /** hex(sha1(adminSecret + info)), lower case. */
  signature: string;
  partnerId: number;
  /** Unix seconds. */
  expiry: number;
  type: number;
  random: number;
  userId: string;
  privileges: string;
  /** The signed text after `|`. */
  info: string;
}

export class KsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KsFormatError';
  }
}

export function generateKs({
  partnerId,
  adminSecret,
  userId = DEFAULT_KS_USER_ID,
  type = KS_TYPE_ADMIN,
  expirySeconds = DEFAULT_KS_EXPIRY_SECONDS,
  privileges = DEFAULT_KS_PRIVILEGES,
  now = Date.now(),
}: GenerateKsOptions): GeneratedKs {
  if (!Number.isInteger(partnerId)) throw new KsFormatError('partnerId must be an integer');
  if (adminSecret === '') throw new KsFormatError('adminSecret is empty');
  if (userId.includes(';') || privileges.includes(';')) {
    throw new KsFormatError('userId and privileges may not contain ";"');
  }
  const expiry = Math.floor(now / 1000) + Math.floor(expirySeconds);
  const random = crypto.randomInt(0, 32_001);
  const info = `${partnerId};${partnerId};${expiry};${type};${random};${userId};${privileges}`;
  const signature = crypto
    .createHash('sha1')
    .update(adminSecret + info, 'utf8')
    .digest('hex');
  const ks = Buffer.from(`${signature}|${info}`, 'utf8').toString('base64');
  return { ks, expiresAt: expiry * 1000 };
}

/** The KS with the URL-safe base64 alphabet (`-` `_`), which the service maps back before decoding. */
export function urlSafeKs(ks: string): string {
  return ks.replace(/\+/g, '-').replace(/\//g, '_');
}

const INT = /^-?\d+$/;

/** Decodes a v1 KS (standard or URL-safe base64). Does not verify the signature. Throws {@link KsFormatError}. */
export function decodeKs(ks: string): DecodedKs {
  const b64 = ks.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    throw new KsFormatError('KS is not base64');
  }
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  if (decoded.startsWith('v2|')) throw new KsFormatError('KS v2 is not supported');
  const bar = decoded.indexOf('|');
  if (bar < 0) throw new KsFormatError('KS has no "|" separator');
  const signature = decoded.slice(0, bar);
  const info = decoded.slice(bar + 1);
  if (!/^[0-9a-fA-F]{40}$/.test(signature)) throw new KsFormatError('KS signature is not a SHA-1 hex digest');
  const parts = info.split(';');
  const [pid, , expiry, type, random, userId, privileges] = parts;
  if (pid === undefined || !INT.test(pid)) throw new KsFormatError('KS partner id is not an integer');
  if (expiry === undefined || !INT.test(expiry)) throw new KsFormatError('KS expiry is not an integer');
  if (type === undefined || !INT.test(type)) throw new KsFormatError('KS type is not an integer');
  // The random part is an integer for KSs built here; the PHP server writes microtime() (a float).
  const rnd = random === undefined || random === '' ? 0 : Number(random);
  if (!Number.isFinite(rnd)) throw new KsFormatError('KS random part is not a number');
  return {
    signature: signature.toLowerCase(),
    partnerId: Number(pid),
    expiry: Number(expiry),
    type: Number(type),
    random: rnd,
    userId: userId ?? '',
    privileges: privileges ?? '',
    info,
  };
}
