/**
 * The Kaltura broadcast URL and stream name rules (kLive):
 * `rtmp://host/kLive/?p=<partnerId>&e=<entryId>&i=<0|1>&t=<token>` and stream `<entryId>_<index>`.
 */

import { bracketHost } from '../lib/host-name.js';

export const APPLICATION_NAME = 'kLive';
/** Entry ids look like `0_rkij47dr`. */
export const ENTRY_ID_PATTERN = /^[01]_[0-9a-z]{8}$/;
/** Stream names: `<entryId>_<index>`. */
export const STREAM_NAME_PATTERN = /^([01]_[0-9a-zA-Z]{8})_(.+)$/;
export const MAX_STREAM_INDEX = 3;

export interface BroadcastRequest {
  partnerId: number;
  entryId: string;
  /** `i`: 0 = primary, 1 = backup (Kaltura's mediaServerIndex). */
  serverIndex: 0 | 1;
  token: string;
  streamName: string;
  /** 1 for a single bitrate; 1..3 for a multi-bitrate ingest. */
  streamIndex: number;
}

export interface Rejection {
  code: string;
  message: string;
}

export type ParseResult = { ok: true; value: BroadcastRequest } | { ok: false; rejection: Rejection };

/**
 * Splits the RTMP connect `app` (`kLive/?p=..&e=..`) into the application and its query.
 * A trailing `/` of the application is dropped, as the media server does.
 */
export function splitConnectApp(app: string): { app: string; query: Record<string, string> } {
  const q = app.indexOf('?');
  const name = (q === -1 ? app : app.slice(0, q)).replace(/\/+$/, '');
  const query: Record<string, string> = {};
  if (q !== -1) {
    for (const [k, v] of new URLSearchParams(app.slice(q + 1))) if (!(k in query)) query[k] = v;
  }
  return { app: name, query };
}

/** `e` of a deployment with a live `backend_id`: `<backendId>-<entryId>` (Kaltura, since 2023). */
const BACKEND_PREFIXED_ENTRY = /^[A-Za-z0-9_.]{1,64}-([01]_[0-9a-z]{8})$/;

/** The entry id of the broadcast URL's `e`, with a `<backendId>-` prefix removed. */
export function entryIdOf(e: string | undefined): string | undefined {
  if (e === undefined) return undefined;
  return BACKEND_PREFIXED_ENTRY.exec(e)?.[1] ?? e;
}

const MISSING: ReadonlyArray<[string, string]> = [
  ['e', 'entryId'],
  ['t', 'token'],
  ['p', 'partnerId'],
  ['i', 'server index'],
];

/** Applies every broadcast URL and stream name rule; the partner and token are checked later by the partner. */
export function parseBroadcastRequest(
  app: string,
  query: Record<string, string | undefined>,
  streamName: string,
): ParseResult {
  const reject = (code: string, message: string): ParseResult => ({
    ok: false,
    rejection: { code, message },
  });
  if (app !== APPLICATION_NAME)
    return reject('UNKNOWN_APPLICATION', `Unknown application [${app}], use ${APPLICATION_NAME}`);
  for (const [key, name] of MISSING) {
    if (query[key] === undefined || query[key] === '')
      return reject('MISSING_ARGUMENT', `Missing argument: ${name}`);
  }
  const p = query.p as string;
  const e = entryIdOf(query.e) as string;
  const i = query.i as string;
  const t = query.t as string;
  if (!/^-?\d{1,10}$/.test(p)) return reject('INVALID_PARTNER_ID', `Invalid partner id [${p}]`);
  if (!ENTRY_ID_PATTERN.test(e)) return reject('INVALID_ENTRY_ID', `Invalid entry id [${e}]`);
  if (i !== '0' && i !== '1')
    return reject('INVALID_SERVER_INDEX', `Invalid server index [${i}], use 0 (primary) or 1 (backup)`);
  if (streamName === '') {
    return reject(
      'MISSING_STREAM_NAME',
      `No stream name: publish to the broadcast URL followed by "/${e}_1" (OBS: Server = the broadcast URL, Stream Key = ${e}_1)`,
    );
  }
  const m = STREAM_NAME_PATTERN.exec(streamName);
  if (!m) return reject('INCORRECT_STREAM_NAME', `Incorrect stream name [${streamName}], expected ${e}_1`);
  if (m[1] !== e)
    return reject('INCORRECT_STREAM_NAME', `Stream name [${streamName}] does not belong to entry [${e}]`);
  const index = m[2] as string;
  if (!/^\d+$/.test(index) || Number(index) < 1 || Number(index) > MAX_STREAM_INDEX) {
    return reject(
      'INCORRECT_STREAM_NAME',
      `Incorrect stream index [${index}] in [${streamName}], use 1 to ${MAX_STREAM_INDEX}`,
    );
  }
  return {
    ok: true,
    value: {
      partnerId: Number(p),
      entryId: e,
      serverIndex: i === '0' ? 0 : 1,
      token: t,
      streamName,
      streamIndex: Number(index),
    },
  };
}

/** Builds the broadcast URL an encoder uses (OBS "server"). */
export function buildBroadcastUrl(
  host: string,
  port: number,
  partnerId: number,
  entryId: string,
  token: string,
  serverIndex: 0 | 1,
): string {
  const h = bracketHost(host);
  return `rtmp://${h}:${port}/${APPLICATION_NAME}/?p=${partnerId}&e=${entryId}&i=${serverIndex}&t=${encodeURIComponent(token)}`;
}
