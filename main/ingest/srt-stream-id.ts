/**
 * The SRT stream id an encoder sends (SRTO_STREAMID), as Kaltura's live service writes it
 * (kBroadcastUrlManager::createSrtStreamId): `#:::e=<entryId>,st=<0|1>,p=<stream token>` or, for an entry with
 * an SRT passphrase, `…,ep=<encrypted passphrase>`; `e` may carry a `<backendId>-` prefix. Also accepted: a plain
 * `<entryId>_<n>`, which names the stream only and is authenticated by the channel's SRT passphrase.
 */
import { bracketHost } from '../lib/host-name.js';
import { entryIdOf, ENTRY_ID_PATTERN, MAX_STREAM_INDEX, type Rejection } from './broadcast-url.js';

/** SRT allows stream ids up to 512 bytes. */
export const MAX_STREAM_ID_LENGTH = 512;

export interface SrtStreamId {
  entryId: string;
  /** `st`: 0 = primary, 1 = backup (Kaltura's session type, the RTMP URL's `i`). */
  serverIndex: 0 | 1;
  /** The stream name the publish gets, as over RTMP: `<entryId>_<n>`. */
  streamName: string;
  /**
   * `kaltura`: the stream id carries a token (`p`) or Kaltura's encrypted passphrase (`ep`), checked as an RTMP
   * broadcast URL's `t`; `plain`: no token, the channel's SRT passphrase (checked by the SRT handshake) is the
   * credential.
   */
  form: 'kaltura' | 'plain';
  /** `p` or `ep` of the Kaltura form. */
  token?: string;
}

export type SrtStreamIdResult = { ok: true; value: SrtStreamId } | { ok: false; rejection: Rejection };

const PLAIN = /^([01]_[0-9a-z]{8})_(\d+)$/;

const reject = (code: string, message: string): SrtStreamIdResult => ({
  ok: false,
  rejection: { code, message },
});

/**
 * Reads a stream id. Encoders that URL-encode it (ffmpeg's `srt://…?streamid=` passes it as typed) are met
 * half-way: a stream id that starts with `%23` is decoded first.
 */
export function parseSrtStreamId(raw: string): SrtStreamIdResult {
  if (raw.length > MAX_STREAM_ID_LENGTH) return reject('INVALID_STREAM_ID', 'The SRT stream id is too long');
  let sid = raw.trim();
  if (/^%23/i.test(sid)) {
    try {
      sid = decodeURIComponent(sid);
    } catch {
      return reject('INVALID_STREAM_ID', 'The SRT stream id is not valid URL encoding');
    }
  }
  if (sid === '') {
    return reject(
      'MISSING_STREAM_ID',
      'No SRT stream id: set the stream id the channel shows (#:::e=<entry>,st=0,p=<token>, or <entry>_1 with the passphrase)',
    );
  }
  const plain = PLAIN.exec(sid);
  if (plain) {
    const index = Number(plain[2]);
    if (index < 1 || index > MAX_STREAM_INDEX) {
      return reject(
        'INCORRECT_STREAM_NAME',
        `Incorrect stream index [${plain[2]}], use 1 to ${MAX_STREAM_INDEX}`,
      );
    }
    return {
      ok: true,
      value: { entryId: plain[1] as string, serverIndex: 0, streamName: sid, form: 'plain' },
    };
  }
  if (!sid.startsWith('#:::')) {
    return reject(
      'INVALID_STREAM_ID',
      `Unrecognised SRT stream id [${sid.slice(0, 80)}]: use #:::e=<entry>,st=0,p=<token> or <entry>_1`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of sid.slice(4).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return reject('INVALID_STREAM_ID', `Malformed SRT stream id field [${part.slice(0, 40)}]`);
    const key = part.slice(0, eq);
    if (!fields.has(key)) fields.set(key, part.slice(eq + 1));
  }
  const e = entryIdOf(fields.get('e'));
  if (!e) return reject('MISSING_ARGUMENT', 'Missing argument: entryId (e= in the SRT stream id)');
  if (!ENTRY_ID_PATTERN.test(e)) return reject('INVALID_ENTRY_ID', `Invalid entry id [${e.slice(0, 40)}]`);
  const st = fields.get('st') ?? '0';
  if (st !== '0' && st !== '1') {
    return reject(
      'INVALID_SERVER_INDEX',
      `Invalid session type [${st.slice(0, 10)}], use st=0 (primary) or st=1 (backup)`,
    );
  }
  const token = fields.get('p') || fields.get('ep');
  if (!token) return reject('MISSING_ARGUMENT', 'Missing argument: token (p= in the SRT stream id)');
  return {
    ok: true,
    value: { entryId: e, serverIndex: st === '1' ? 1 : 0, streamName: `${e}_1`, form: 'kaltura', token },
  };
}

/** The stream id Kaltura's live service would give this entry (`createSrtStreamId`, the `p` form). */
export function buildSrtStreamId(entryId: string, serverIndex: 0 | 1, token: string): string {
  return `#:::e=${entryId},st=${serverIndex},p=${token}`;
}

/** The SRT URL an encoder calls (no stream id or passphrase: those are separate fields in OBS and vMix). */
export function buildSrtUrl(host: string, port: number): string {
  return `srt://${bracketHost(host)}:${port}`;
}

/** SRT passphrases are 10 to 79 characters (SRTO_PASSPHRASE). */
export const SRT_PASSPHRASE_PATTERN = /^[\x20-\x7e]{10,79}$/;
