/** "Refused publishes": repeats are one row with a count, at most MAX_REFUSED rows, a hint per code. */
import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, PublishAttempts } from '../../main/channels/publish-attempts.js';
import { MAX_REFUSED, RefusedPublishes, refusalHint } from '../../main/channels/refused-publishes.js';

describe('refused publishes', () => {
  it('count repeats on one row, newest first, and stay bounded whatever a stranger sends', () => {
    let now = 0;
    const r = new RefusedPublishes(() => now);
    const junk = (i: number) => ({
      remote: '10.0.0.9',
      code: 'INVALID_ENTRY_ID',
      message: 'x',
      streamName: `s${i}`,
    });
    r.add({ remote: '10.0.0.5', code: 'MISSING_STREAM_NAME', message: 'no stream name', streamName: '' });
    now = 5;
    r.add({ remote: '10.0.0.5', code: 'MISSING_STREAM_NAME', message: 'no stream name', streamName: '' });
    expect(r.list()).toHaveLength(1);
    expect(r.list()[0]).toMatchObject({ count: 2, firstAt: 0, lastAt: 5 });
    expect(r.list()[0]?.hint).toContain('Stream Key');
    for (let i = 0; i < 500; i++) r.add(junk(i));
    expect(r.list()).toHaveLength(MAX_REFUSED);
    expect(r.list()[0]?.streamName).toBe('s499');
  });

  it('have a hint for every code, a general one for the rest', () => {
    expect(refusalHint('UNKNOWN_APPLICATION')).toContain('/kLive/');
    expect(refusalHint('SOMETHING_ELSE')).toContain('Copy the broadcast URL');
  });
});

describe("a channel's last publish attempt", () => {
  it('keeps the newest per channel, a refusal with its fix, and stays bounded', () => {
    let now = 1000;
    const a = new PublishAttempts(() => now);
    a.refused('0_a', {
      remote: '10.0.0.5',
      transport: 'rtmp',
      code: 'LIVE_STREAM_INVALID_TOKEN',
      message: 'bad',
    });
    expect(a.of('0_a')).toEqual({
      at: 1000,
      remote: '10.0.0.5',
      transport: 'rtmp',
      accepted: false,
      code: 'LIVE_STREAM_INVALID_TOKEN',
      message: 'bad',
      fix: expect.stringMatching(/^Wrong token/),
    });
    now = 2000;
    a.accepted('0_a', '10.0.0.5', 'srt');
    expect(a.of('0_a')).toEqual({
      at: 2000,
      remote: '10.0.0.5',
      transport: 'srt',
      accepted: true,
      message: 'accepted',
    });
    for (let i = 0; i < MAX_ATTEMPTS + 5; i++) a.accepted(`e${i}`, 'x', 'rtmp');
    expect(a.of('0_a')).toBeUndefined();
    expect(a.of(`e${MAX_ATTEMPTS + 4}`)).toBeDefined();
    a.forget(`e${MAX_ATTEMPTS + 4}`);
    expect(a.of(`e${MAX_ATTEMPTS + 4}`)).toBeUndefined();
  });
});
