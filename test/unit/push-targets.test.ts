/** Push targets: URLs checked and masked, a run's states and backoff (with a stand-in for ffmpeg), following feeds. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { PushRun, pushArgs, renditionInput, sourceInput, type PushStatus } from '../../main/push/push-run.js';
import { PushTargetStore } from '../../main/push/push-target-store.js';
import {
  checkPushUrl,
  completeKalturaUrl,
  maskPushUrl,
  redactPushUrl,
} from '../../main/push/push-target-url.js';
import { PushTargets } from '../../main/push/push-targets.js';
import { pointsHere } from '../../main/channels/channel-view.js';
import { openDatabase } from '../../main/store/database.js';

const log = createLogger('silent');
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-push-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A stand-in for ffmpeg: reports `bytes` sent on stdout, says `err` (with its arguments) and exits with `code`. */
function fakeFfmpeg(dir: string, o: { bytes?: number; code?: number; sleep?: number }): string {
  const file = path.join(dir, 'ffmpeg');
  fs.writeFileSync(
    file,
    `#!/bin/sh\n${o.bytes ? `echo total_size=${o.bytes}\n` : ''}${o.sleep ? `sleep ${o.sleep}\n` : ''}` +
      `echo "$(eval echo \\$$#): Connection refused" >&2\nexit ${o.code ?? 1}\n`,
    { mode: 0o755 },
  );
  return file;
}

const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('push target URLs', () => {
  it('accepts rtmp, rtmps and srt with a host (srt with a port); refuses the rest with the reason', () => {
    expect(checkPushUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh')).toBe('rtmp');
    expect(checkPushUrl('rtmps://live.kaltura.com:443/kLive/?p=1&e=0_x&i=0&t=t/0_x_1')).toBe('rtmps');
    expect(checkPushUrl('srt://10.0.0.5:9000?streamid=x&passphrase=y')).toBe('srt');
    expect(() => checkPushUrl('http://example.com/x')).toThrow(/not a push protocol/);
    expect(() => checkPushUrl('file:///etc/passwd')).toThrow(/not a push protocol/);
    expect(() => checkPushUrl('srt://10.0.0.5')).toThrow(/needs a port/);
    expect(() => checkPushUrl('rtmp://user:pw@host/app/key')).toThrow(/credentials/);
    expect(() => checkPushUrl('rtmp://host/app/key -f null')).toThrow(/spaces/);
    expect(() => checkPushUrl(`rtmp://host/${'k'.repeat(3000)}`)).toThrow(/longer/);
    expect(() => checkPushUrl('not a url')).toThrow();
  });

  it('are shown and logged masked: the stream key, streamid and passphrase never', () => {
    expect(maskPushUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh')).toBe(
      'rtmp://a.rtmp.youtube.com/live2/••••',
    );
    expect(maskPushUrl('srt://10.0.0.5:9000?streamid=key&passphrase=secret')).toBe(
      'srt://10.0.0.5:9000/••••',
    );
    const url = 'rtmp://host:1935/live/the-secret-key';
    const said = redactPushUrl(`[flv @ 0x1] ${url}: Connection refused; /live/the-secret-key`, url);
    expect(said).not.toContain('the-secret-key');
    expect(said).toContain('rtmp://host:1935/live/••••');
  });

  it("completes a Kaltura entry's broadcast URL with its stream name; leaves every other URL as given", () => {
    const kaltura = 'rtmp://1-a.kaltura.com:1935/kLive/?p=102&e=0_abcdefgh&i=0&t=tok123';
    expect(completeKalturaUrl(kaltura)).toBe(`${kaltura}/0_abcdefgh_1`);
    expect(completeKalturaUrl(`${kaltura}/0_abcdefgh_1`)).toBe(`${kaltura}/0_abcdefgh_1`);
    const prefixed = 'rtmps://h/kLive?p=1&e=be1-1_abcdefgh&i=1&t=x';
    expect(completeKalturaUrl(prefixed)).toBe(`${prefixed}/1_abcdefgh_1`);
    for (const other of [
      'rtmp://a.rtmp.youtube.com/live2/key',
      'srt://h:9000?streamid=x',
      'rtmp://h/kLive/?e=bad&t=x',
    ])
      expect(completeKalturaUrl(other)).toBe(other);
  });

  it('ffmpeg copies the stream: no re-encode, FLV for RTMP, MPEG-TS for SRT', () => {
    const rtmp = pushArgs(sourceInput('rtmp://127.0.0.1/in?k=1'), 'rtmp://h/a/k', 'rtmp');
    expect(rtmp).toEqual(expect.arrayContaining(['-c', 'copy', '-f', 'flv']));
    expect(rtmp.join(' ')).toContain('-i rtmp://127.0.0.1/in?k=1 -map 0:v? -map 0:a?');
    expect(pushArgs(sourceInput('in'), 'srt://h:1', 'srt')).toEqual(expect.arrayContaining(['-f', 'mpegts']));
    // A transcoded rendition: its two track playlists from the origin, video from the first, audio from the second.
    const r = pushArgs(renditionInput('http://o/v.m3u8', 'http://o/a.m3u8'), 'rtmp://h/a/k', 'rtmp').join(
      ' ',
    );
    expect(r).toContain('-i http://o/v.m3u8');
    expect(r).toContain('-i http://o/a.m3u8 -map 0:v -map 1:a -c copy');
    expect(r).not.toMatch(/libx264|-c:v/);
  });
});

describe('a push run', () => {
  it('goes live when bytes flow, retries with backoff and a fresh input URL when the target drops, and stops', async () => {
    const dir = tmp();
    const inputs: string[] = [];
    const seen: PushStatus['state'][] = [];
    const run = new PushRun({
      ffmpegPath: fakeFfmpeg(dir, { bytes: 4096 }),
      url: 'rtmp://127.0.0.1:1/live/secret-key',
      protocol: 'rtmp',
      input: () => sourceInput(`rtmp://127.0.0.1:2/kLive/x?k=${inputs.push('x')}`),
      log,
      backoff: [20, 40],
    });
    run.on('status', (s) => seen.push(s.state));
    run.start();
    await until('two attempts', () => inputs.length >= 3);
    await run.stop();
    expect(seen).toEqual(expect.arrayContaining(['connecting', 'live', 'retrying']));
    expect(run.status.state).toBe('idle');
    expect(run.status.lastError).toMatch(/Connection refused/);
    expect(run.status.lastError).not.toContain('secret-key');
    const after = inputs.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(inputs.length).toBe(after);
  });
});

describe('push targets follow the channel', () => {
  it('run the enabled targets while the channel feeds, none when it stops; disabled ones stay off', async () => {
    const dir = tmp();
    const db = openDatabase(dir);
    cleanups.push(() => db.close());
    const pulls: string[] = [];
    const push = new PushTargets({
      store: new PushTargetStore(db),
      ffmpegPath: fakeFfmpeg(dir, { bytes: 100, sleep: 5, code: 0 }),
      pullUrl: (p) => {
        pulls.push(p);
        return `rtmp://127.0.0.1:1${p}?k=${pulls.length}`;
      },
      log,
      backoff: [20],
    });
    cleanups.push(() => void push.stopAll());
    const on = push.create('0_a', { url: 'rtmp://h/app/k1', name: 'one', enabled: true });
    const off = push.create('0_a', { url: 'srt://h:9000', name: 'two', enabled: false });
    push.feedStarted({ entryId: '0_a', streamIndex: 2, internalPath: '/kLive/0_a_2' });
    expect(pulls).toEqual([]);
    push.feedStarted({ entryId: '0_a', streamIndex: 1, internalPath: '/kLive/0_a_1' });
    await until('the enabled target live', () => push.get('0_a', on.id)?.status.state === 'live');
    expect(push.get('0_a', off.id)?.status.state).toBe('disabled');
    expect(pulls).toEqual(['/kLive/0_a_1']);
    await push.update('0_a', off.id, { enabled: true });
    await until('the second target live', () => push.get('0_a', off.id)?.status.state === 'live');
    push.feedStopped({ entryId: '0_a', streamIndex: 1 });
    await until('both idle', () => push.list('0_a').every((t) => t.status.state === 'idle'));
    expect(push.list('0_a').map((t) => t.status.bytesSent)).toEqual([100, 100]);
    expect(await push.delete('0_a', on.id)).toBe(true);
    expect(push.list('0_a').map((t) => t.name)).toEqual(['two']);
  });
});

describe("the eCDN offer of the entry's broadcast URL", () => {
  it('is withheld when the service sends encoders to this appliance itself (a push there would loop)', () => {
    expect(pointsHere('rtmp://10.0.0.5:1935/kLive/?p=1&e=0_x&i=0&t=t', '10.0.0.5')).toBe(true);
    expect(pointsHere('rtmp://localhost/kLive/?e=0_x', 'ecdn.local')).toBe(true);
    expect(pointsHere('rtmp://[::1]/kLive/?e=0_x', 'ecdn.local')).toBe(true);
    expect(pointsHere('not a url', 'ecdn.local')).toBe(true);
    expect(pointsHere('rtmp://1-a.kaltura.com:1935/kLive/?p=1&e=0_x&i=0&t=t', '10.0.0.5')).toBe(false);
  });
});
