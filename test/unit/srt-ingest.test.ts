/** SRT ingest, the parts without a network: Kaltura's stream id, and a caller's admission as an RTMP publish. */
import { describe, expect, it } from 'vitest';
import { RefusedPublishes } from '../../main/channels/refused-publishes.js';
import { SrtAdmission } from '../../main/channels/srt-admission.js';
import type { ChannelRecord } from '../../main/channels/channel-store.js';
import { buildSrtStreamId, buildSrtUrl, parseSrtStreamId } from '../../main/ingest/srt-stream-id.js';
import type { SrtCaller } from '../../main/ingest/srt-protocol.js';
import { addressOf, socketAddress } from '../../main/ingest/srt-library.js';

describe('SRT stream id', () => {
  it("reads Kaltura's form: entry (with a backend prefix), session type, token or encrypted passphrase", () => {
    expect(parseSrtStreamId('#:::e=0_abcdefgh,st=0,p=tok123')).toEqual({
      ok: true,
      value: {
        entryId: '0_abcdefgh',
        serverIndex: 0,
        streamName: '0_abcdefgh_1',
        form: 'kaltura',
        token: 'tok123',
      },
    });
    const backup = parseSrtStreamId('#:::e=be1-1_abcdefgh,st=1,ep=ZW5j');
    expect(backup).toMatchObject({
      ok: true,
      value: { entryId: '1_abcdefgh', serverIndex: 1, token: 'ZW5j' },
    });
    // ffmpeg passes ?streamid= as typed: a URL-encoded one is decoded.
    expect(parseSrtStreamId(encodeURIComponent('#:::e=0_abcdefgh,st=0,p=t'))).toMatchObject({ ok: true });
    expect(buildSrtStreamId('0_abcdefgh', 1, 'tok')).toBe('#:::e=0_abcdefgh,st=1,p=tok');
    expect(parseSrtStreamId(buildSrtStreamId('0_abcdefgh', 1, 'tok'))).toMatchObject({
      ok: true,
      value: { serverIndex: 1, token: 'tok' },
    });
  });

  it('reads the plain form <entry>_<n>, authenticated by the passphrase', () => {
    expect(parseSrtStreamId('0_abcdefgh_2')).toEqual({
      ok: true,
      value: { entryId: '0_abcdefgh', serverIndex: 0, streamName: '0_abcdefgh_2', form: 'plain' },
    });
    expect(parseSrtStreamId('0_abcdefgh_9')).toMatchObject({
      ok: false,
      rejection: { code: 'INCORRECT_STREAM_NAME' },
    });
  });

  it('refuses what it cannot read, each with its reason', () => {
    const code = (sid: string) => {
      const r = parseSrtStreamId(sid);
      return r.ok ? 'ok' : r.rejection.code;
    };
    expect(code('')).toBe('MISSING_STREAM_ID');
    expect(code('hello')).toBe('INVALID_STREAM_ID');
    expect(code('x'.repeat(600))).toBe('INVALID_STREAM_ID');
    expect(code('%23%zz')).toBe('INVALID_STREAM_ID');
    expect(code('#:::st=0,p=t')).toBe('MISSING_ARGUMENT');
    expect(code('#:::e=nope,p=t')).toBe('INVALID_ENTRY_ID');
    expect(code('#:::e=0_abcdefgh,st=2,p=t')).toBe('INVALID_SERVER_INDEX');
    expect(code('#:::e=0_abcdefgh,st=0')).toBe('MISSING_ARGUMENT');
    expect(code('#:::e=0_abcdefgh,junk')).toBe('INVALID_STREAM_ID');
  });

  it('writes the URL with IPv6 hosts bracketed; socket addresses round-trip', () => {
    expect(buildSrtUrl('10.0.0.5', 9000)).toBe('srt://10.0.0.5:9000');
    expect(buildSrtUrl('fe80::1', 9000)).toBe('srt://[fe80::1]:9000');
    expect(addressOf(socketAddress('10.1.2.3', 9000))).toBe('10.1.2.3');
    expect(socketAddress('10.1.2.3', 9000).readUInt16BE(2)).toBe(9000);
    expect(addressOf(socketAddress('::ffff:10.0.0.7', 1))).toBe('10.0.0.7');
    expect(addressOf(socketAddress('fe80::1', 1))).toBe('fe80:0:0:0:0:0:0:1');
  });
});

describe('SRT admission', () => {
  const record = (over: Partial<ChannelRecord> = {}): ChannelRecord => ({
    entryId: '0_abcdefgh',
    partnerId: 7,
    name: 'n',
    token: 'chantoken',
    createdAt: 0,
    accepting: true,
    access: 'open',
    signedGeneration: 0,
    srtPassphrase: 'passphrase-0123',
    srtLatencyMs: 300,
    ...over,
  });
  const setup = (rec: ChannelRecord | undefined) => {
    const events: string[] = [];
    const refused = new RefusedPublishes(() => 0);
    const admission = new SrtAdmission({
      channels: { get: (e) => (rec?.entryId === e ? rec : undefined), list: () => (rec ? [rec] : []) },
      partnerId: 7,
      record: (_entry, _level, code, message) => void events.push(`${code} ${message}`),
      refused,
    });
    return { admission, events, refused };
  };
  const caller = (over: Partial<SrtCaller> = {}): SrtCaller => ({
    srtId: 1,
    remote: '10.0.0.9',
    entryId: '0_abcdefgh',
    serverIndex: 0,
    streamName: '0_abcdefgh_1',
    form: 'kaltura',
    token: 'given',
    encrypted: true,
    ...over,
  });

  it("tells the child each channel's passphrase and latency", () => {
    expect(setup(record()).admission.settings()).toEqual({
      '0_abcdefgh': { passphrase: 'passphrase-0123', latencyMs: 300 },
    });
    expect(setup(record({ srtPassphrase: undefined })).admission.settings()).toEqual({
      '0_abcdefgh': { latencyMs: 300 },
    });
  });

  it("makes a Kaltura stream id the RTMP broadcast URL's query, token and server index included", () => {
    expect(setup(record()).admission.admit(caller({ serverIndex: 1 }))).toEqual({
      query: { p: '7', e: '0_abcdefgh', i: '1', t: 'given' },
    });
  });

  it("gives a plain stream id the channel's token only when the passphrase encrypted the handshake", () => {
    const { admission, events } = setup(record());
    expect(admission.admit(caller({ form: 'plain', token: undefined }))).toEqual({
      query: { p: '7', e: '0_abcdefgh', i: '0', t: 'chantoken' },
    });
    expect(admission.admit(caller({ form: 'plain', token: undefined, encrypted: false }))).toMatchObject({
      code: 'SRT_PASSPHRASE_REQUIRED',
    });
    expect(events[0]).toMatch(/^SRT_PASSPHRASE_REQUIRED SRT publish from 10\.0\.0\.9 rejected/);
    // eCDN: an entry whose token the appliance has not seen yet.
    const unknownToken = setup(record({ token: '' }));
    expect(unknownToken.admission.admit(caller({ form: 'plain', token: undefined }))).toMatchObject({
      code: 'MISSING_ARGUMENT',
    });
  });

  it('standalone: a caller of an entry without a channel here is refused before any relay starts', () => {
    const refused = new RefusedPublishes(() => 0);
    const admission = new SrtAdmission({
      channels: { get: () => undefined, list: () => [] },
      partnerId: 7,
      record: () => undefined,
      refused,
      knownEntriesOnly: true,
    });
    expect(admission.admit(caller({ entryId: '0_zzzzzzzz', streamName: '0_zzzzzzzz_1' }))).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
    });
    expect(refused.list()[0]).toMatchObject({ code: 'ENTRY_ID_NOT_FOUND', entryId: '0_zzzzzzzz' });
  });

  it('puts refusals of unknown entries in the appliance-wide list, with a hint', () => {
    const { admission, refused, events } = setup(undefined);
    admission.refusedCaller({
      remote: '10.0.0.1',
      streamId: 'junk',
      code: 'INVALID_STREAM_ID',
      reason: 'bad',
    });
    expect(events).toEqual([]);
    expect(refused.list()[0]).toMatchObject({
      code: 'INVALID_STREAM_ID',
      message: 'SRT: bad',
      streamName: 'junk',
    });
    expect(refused.list()[0]?.hint).toMatch(/Stream ID field/);
  });
});
