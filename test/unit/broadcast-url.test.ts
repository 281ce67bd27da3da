import { describe, expect, it } from 'vitest';
import { extraParams } from '../../main/partner/ecdn.js';
import {
  buildBroadcastUrl,
  entryIdOf,
  parseBroadcastRequest,
  splitConnectApp,
} from '../../main/ingest/broadcast-url.js';

const q = { p: '102', e: '0_rkij47dr', i: '0', t: 'dj94kfit' };

describe('splitConnectApp', () => {
  it('splits the Kaltura query off the connect app, dropping the trailing slash', () => {
    expect(splitConnectApp('kLive/?p=102&e=0_rkij47dr&i=0&t=dj94kfit')).toEqual({ app: 'kLive', query: q });
  });
  it('keeps a plain app as it is', () => {
    expect(splitConnectApp('kLive')).toEqual({ app: 'kLive', query: {} });
  });
  it('keeps the first of repeated keys and decodes values', () => {
    expect(splitConnectApp('kLive?t=a%2Bb&t=zzz').query).toEqual({ t: 'a+b' });
  });
});

describe('parseBroadcastRequest', () => {
  it('accepts the seed example', () => {
    const r = parseBroadcastRequest('kLive', q, '0_rkij47dr_1');
    expect(r).toEqual({
      ok: true,
      value: {
        partnerId: 102,
        entryId: '0_rkij47dr',
        serverIndex: 0,
        token: 'dj94kfit',
        streamName: '0_rkij47dr_1',
        streamIndex: 1,
      },
    });
  });
  it('accepts the backup ingest and stream indexes 2 and 3', () => {
    const r = parseBroadcastRequest('kLive', { ...q, i: '1' }, '0_rkij47dr_3');
    expect(r.ok && r.value.serverIndex).toBe(1);
    expect(r.ok && r.value.streamIndex).toBe(3);
  });
  it.each([
    ['e', 'Missing argument: entryId'],
    ['t', 'Missing argument: token'],
    ['p', 'Missing argument: partnerId'],
    ['i', 'Missing argument: server index'],
  ])('rejects a missing %s', (key, message) => {
    const query: Record<string, string> = { ...q };
    delete query[key];
    expect(parseBroadcastRequest('kLive', query, '0_rkij47dr_1')).toEqual({
      ok: false,
      rejection: { code: 'MISSING_ARGUMENT', message },
    });
  });
  it('rejects an empty argument like a missing one', () => {
    const r = parseBroadcastRequest('kLive', { ...q, t: '' }, '0_rkij47dr_1');
    expect(!r.ok && r.rejection.code).toBe('MISSING_ARGUMENT');
  });
  it.each([
    ['0_rkij47dr', 'INCORRECT_STREAM_NAME'],
    ['0_rkij47dr_', 'INCORRECT_STREAM_NAME'],
    ['0_aaaaaaaa_1', 'INCORRECT_STREAM_NAME'],
    ['0_rkij47dr_x', 'INCORRECT_STREAM_NAME'],
    ['0_rkij47dr_4', 'INCORRECT_STREAM_NAME'],
    ['0_rkij47dr_0', 'INCORRECT_STREAM_NAME'],
    ['', 'MISSING_STREAM_NAME'],
  ])('rejects stream name %j', (name, code) => {
    const r = parseBroadcastRequest('kLive', q, name);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.rejection.code).toBe(code);
  });
  it('says what an empty stream name means: the broadcast URL without "/<entry>_1"', () => {
    const r = parseBroadcastRequest('kLive', q, '');
    expect(!r.ok && r.rejection.message).toContain('followed by "/0_rkij47dr_1"');
  });
  it('names the other entry when the stream belongs to it', () => {
    const r = parseBroadcastRequest('kLive', q, '0_aaaaaaaa_1');
    expect(!r.ok && r.rejection.message).toContain('does not belong to entry [0_rkij47dr]');
  });
  it('rejects a bad server index, partner id, entry id and application', () => {
    const codes = [
      parseBroadcastRequest('kLive', { ...q, i: '2' }, '0_rkij47dr_1'),
      parseBroadcastRequest('kLive', { ...q, p: 'abc' }, '0_rkij47dr_1'),
      parseBroadcastRequest('kLive', { ...q, e: '0_RKIJ47DR' }, '0_RKIJ47DR_1'),
      parseBroadcastRequest('live', q, '0_rkij47dr_1'),
    ].map((r) => !r.ok && r.rejection.code);
    expect(codes).toEqual([
      'INVALID_SERVER_INDEX',
      'INVALID_PARTNER_ID',
      'INVALID_ENTRY_ID',
      'UNKNOWN_APPLICATION',
    ]);
  });
});

describe('buildBroadcastUrl', () => {
  it('builds the kLive URL and brackets IPv6 hosts', () => {
    expect(buildBroadcastUrl('10.0.0.5', 1935, 102, '0_rkij47dr', 'dj94kfit', 0)).toBe(
      'rtmp://10.0.0.5:1935/kLive/?p=102&e=0_rkij47dr&i=0&t=dj94kfit',
    );
    expect(buildBroadcastUrl('::1', 1935, 1, '0_rkij47dr', 't', 1)).toBe(
      'rtmp://[::1]:1935/kLive/?p=1&e=0_rkij47dr&i=1&t=t',
    );
  });
  it('round-trips through splitConnectApp and parseBroadcastRequest', () => {
    const url = new URL(buildBroadcastUrl('h', 1935, 7, '1_abcdefgh', 'tok', 1));
    const { app, query } = splitConnectApp(url.pathname.slice(1) + url.search);
    const r = parseBroadcastRequest(app, query, '1_abcdefgh_2');
    expect(r.ok && r.value).toMatchObject({
      partnerId: 7,
      entryId: '1_abcdefgh',
      serverIndex: 1,
      token: 'tok',
      streamIndex: 2,
    });
  });
});

describe('an `e` with a backend-id prefix (Kaltura deployments with a live backend_id)', () => {
  it('is the entry after the prefix; the stream name is still the plain entry', () => {
    expect(entryIdOf('kbe3-0_rkij47dr')).toBe('0_rkij47dr');
    expect(entryIdOf('0_rkij47dr')).toBe('0_rkij47dr');
    expect(entryIdOf('not-an-entry')).toBe('not-an-entry');
    expect(entryIdOf(undefined)).toBeUndefined();
    const r = parseBroadcastRequest('kLive', { ...q, e: 'kbe3-0_rkij47dr' }, '0_rkij47dr_1');
    expect(r).toMatchObject({ ok: true, value: { entryId: '0_rkij47dr', streamName: '0_rkij47dr_1' } });
    // Only one prefix, of plain characters: anything else is still an invalid entry id.
    for (const e of ['a-b-0_rkij47dr', '-0_rkij47dr', 'x/y-0_rkij47dr'])
      expect(parseBroadcastRequest('kLive', { ...q, e }, '0_rkij47dr_1')).toMatchObject({
        ok: false,
        rejection: { code: 'INVALID_ENTRY_ID' },
      });
  });
});

describe("Kaltura's extraParams", () => {
  it('carry the codec names as Wowza sends them (H264, AAC), so the service passes AAC audio through', () => {
    expect(
      extraParams({
        videocodecidstring: 'h264',
        audiocodecidstring: 'aac',
        width: 1280,
        height: 720,
        framerate: 30,
        videodatarate: 2500,
        audiodatarate: 128,
      }),
    ).toEqual({
      videocodecidstring: 'H264',
      audiocodecidstring: 'AAC',
      width: 1280,
      height: 720,
      framerate: 30,
      videodatarate: 2500,
      audiodatarate: 128,
    });
    expect(extraParams({ audiocodecidstring: 'mp3' })).toEqual({ audiocodecidstring: 'MP3' });
  });
});
