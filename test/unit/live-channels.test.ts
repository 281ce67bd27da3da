/** LiveChannels' races, driven with a fake ingest: what the end-to-end tests cannot time precisely. */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelStore } from '../../main/channels/channel-store.js';
import { LiveChannels, type LiveChannelsOptions } from '../../main/channels/live-channels.js';
import { Transcoder } from '../../main/transcode/transcoder.js';
import { createLogger } from '../../main/lib/logger.js';
import type { IngestServer, PublishRequest } from '../../main/ingest/ingest-server.js';
import { FragmentWriter } from '../../main/origin/fragment-writer.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import { PublishingPointStates } from '../../main/origin/publishing-point-state.js';
import { PublishingPoints } from '../../main/origin/publishing-points.js';
import { SegmentIndex } from '../../main/origin/segment-index.js';
import { PublishAuthenticator } from '../../main/partner/publish-authenticator.js';
import { StandalonePartner } from '../../main/partner/standalone-partner.js';
import { openDatabase, type Db } from '../../main/store/database.js';
import { loadDefaultProfile, type ConversionProfile } from '../../main/transcode/conversion-profile.js';

class FakeIngest extends EventEmitter {
  disconnected: string[] = [];
  disconnect(sessionId: string): void {
    this.disconnected.push(sessionId);
  }
  pulls = 0;
  streamUrl(p: string): string {
    return `rtmp://127.0.0.1:1/${p}`;
  }
  pullUrl(p: string): string {
    return `rtmp://127.0.0.1:1/${p}?k=${++this.pulls}`;
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const METADATA = { width: 640, height: 360, videocodecidstring: 'h264', audiocodecidstring: 'aac' };
const tick = () => new Promise((r) => setTimeout(r, 20));

function setup(
  profileFor: () => Promise<ConversionProfile> = async () => loadDefaultProfile(),
  more: { hooks?: LiveChannelsOptions['hooks']; ffmpegScript?: string; drainMs?: number } = {},
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-live-'));
  // A stand-in for ffmpeg that only waits (and ends on SIGINT like ffmpeg).
  const fakeFfmpeg = path.join(dir, 'ffmpeg');
  fs.writeFileSync(fakeFfmpeg, more.ffmpegScript ?? '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const db: Db = openDatabase(dir);
  const log = createLogger('silent');
  const channels = new ChannelStore(db);
  const index = new SegmentIndex(db);
  const storage = new OriginStorage(dir);
  const ingest = new FakeIngest();
  const live = new LiveChannels({
    channels,
    authenticator: new PublishAuthenticator(new StandalonePartner(1, channels), 'test'),
    ingest: ingest as unknown as IngestServer,
    fragments: new FragmentWriter(index, storage, log),
    pps: new PublishingPoints(index, storage, log),
    states: new PublishingPointStates(index),
    ffmpegPath: fakeFfmpeg,
    profileFor,
    defaultPpOptions: {},
    ...(more.hooks ? { hooks: more.hooks } : {}),
    ...(more.drainMs !== undefined ? { drainMs: more.drainMs } : {}),
    log,
  });
  cleanups.push(() => {
    void live.stopAll().finally(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
  const channel = channels.create('race', 1);
  const request = (sessionId: string): PublishRequest => ({
    sessionId,
    remote: '127.0.0.1',
    app: 'kLive',
    query: { p: '1', e: channel.entryId, i: '0', t: channel.token },
    streamName: `${channel.entryId}_1`,
  });
  return { live, ingest, channels, channel, request };
}

describe('LiveChannels races', () => {
  it('a publish announced after its channel was stopped is refused, not started', async () => {
    const { live, ingest, channel, request } = setup();
    expect(await live.authorize(request('s1'))).toMatchObject({ allow: true });
    await live.stopChannel(channel.entryId);
    ingest.emit('published', {
      sessionId: 's1',
      internalPath: `/kLive/${channel.entryId}_1`,
      metadata: METADATA,
    });
    await tick();
    expect(ingest.disconnected).toContain('s1');
    expect(live.isLive(channel.entryId)).toBe(false);
    expect(live.transcodersOf(channel.entryId)).toEqual([]);
  });

  it('an encoder that leaves while the conversion profile is fetched leaves no transcoder behind', async () => {
    let deliver: (p: ConversionProfile) => void = () => undefined;
    const { live, ingest, channel, request } = setup(() => new Promise((r) => (deliver = r)));
    await live.authorize(request('s2'));
    ingest.emit('published', {
      sessionId: 's2',
      internalPath: `/kLive/${channel.entryId}_1`,
      metadata: METADATA,
    });
    await tick();
    ingest.emit('unpublished', { sessionId: 's2', bytesIn: 0 });
    await tick();
    deliver(loadDefaultProfile());
    await tick();
    expect(live.transcodersOf(channel.entryId)).toEqual([]);
    expect(live.isLive(channel.entryId)).toBe(false);
  });

  it('serialises channel control: a stop issued during a restart is not undone by it', async () => {
    const { live, channels, channel } = setup();
    const restart = live.restartChannel(channel.entryId);
    const stop = live.stopChannel(channel.entryId);
    await Promise.all([restart, stop]);
    expect(channels.get(channel.entryId)?.accepting).toBe(false);
    await live.startChannel(channel.entryId);
    expect(channels.get(channel.entryId)?.accepting).toBe(true);
  });

  it('stop ends a live ingest: the transcoder stops and the end is recorded', async () => {
    const { live, ingest, channels, channel, request } = setup(undefined, { drainMs: 50 });
    await live.authorize(request('s3'));
    ingest.emit('published', {
      sessionId: 's3',
      internalPath: `/kLive/${channel.entryId}_1`,
      metadata: METADATA,
    });
    await tick();
    expect(live.transcodersOf(channel.entryId)).toHaveLength(1);
    await live.stopChannel(channel.entryId);
    expect(live.transcodersOf(channel.entryId)).toEqual([]);
    expect(channels.events(channel.entryId).map((e) => e.code)).toEqual(
      expect.arrayContaining(['PUBLISH_STARTED', 'PUBLISH_STOPPED', 'CHANNEL_STOPPED']),
    );
  });
});

describe('followers of the live streams (push targets, the content monitor)', () => {
  it('are told when a feed starts (with where to pull it) and stops; one added later hears of the running ones', async () => {
    const { live, ingest, channel, request } = setup(undefined, { drainMs: 50 });
    const heard: string[] = [];
    const follower = {
      feedStarted: (f: { entryId: string; streamIndex: number; internalPath: string }) =>
        heard.push(`started ${f.entryId} ${f.streamIndex} ${f.internalPath}`),
      feedStopped: (f: { entryId: string; streamIndex: number }) =>
        heard.push(`stopped ${f.entryId} ${f.streamIndex}`),
    };
    const unfollow = live.follow(follower);
    await live.authorize(request('s5'));
    ingest.emit('published', {
      sessionId: 's5',
      internalPath: `/kLive/${channel.entryId}_1`,
      metadata: METADATA,
    });
    await tick();
    expect(heard).toEqual([`started ${channel.entryId} 1 /kLive/${channel.entryId}_1`]);
    const late: string[] = [];
    live.follow({ feedStarted: (f) => late.push(f.internalPath), feedStopped: () => late.push('stopped') });
    expect(late).toEqual([`/kLive/${channel.entryId}_1`]);
    await live.stopChannel(channel.entryId);
    expect(heard).toEqual([
      `started ${channel.entryId} 1 /kLive/${channel.entryId}_1`,
      `stopped ${channel.entryId} 1`,
    ]);
    unfollow();
  });
});

describe('ingest problems for Kaltura health beacons', () => {
  it('a refused publish and a dying transcoder are reported with the entry, the index and the code', async () => {
    const problems: Array<{ entryId: string; serverIndex: 0 | 1; code: string; parameter?: string }> = [];
    const { live, channel, request } = setup(undefined, { hooks: { problem: (p) => problems.push(p) } });
    const bad = request('s9');
    await live.authorize({ ...bad, query: { ...bad.query, i: '1' }, streamName: `${channel.entryId}_x` });
    await live.authorize({ ...bad, query: { ...bad.query, t: 'wrong' } });
    expect(problems).toEqual([
      {
        entryId: channel.entryId,
        serverIndex: 1,
        code: 'INCORRECT_STREAM_NAME',
        parameter: `${channel.entryId}_x`,
      },
      {
        entryId: channel.entryId,
        serverIndex: 0,
        code: 'LIVE_STREAM_INVALID_TOKEN',
        parameter: `${channel.entryId}_1`,
      },
    ]);
    // A malformed `e` is nobody's entry: nothing to report.
    await live.authorize({ ...bad, query: { ...bad.query, e: 'junk' } });
    expect(problems).toHaveLength(2);
    // (The wrong token blocks the entry for 30 s: a second channel for the transcoder.)
    const second = setup(undefined, {
      hooks: { problem: (p) => problems.push(p) },
      ffmpegScript: '#!/bin/sh\nexit 1\n',
    });
    problems.length = 0;
    expect(await second.live.authorize(second.request('s10'))).toMatchObject({ allow: true });
    second.ingest.emit('published', {
      sessionId: 's10',
      internalPath: `/kLive/${second.channel.entryId}_1`,
      metadata: METADATA,
    });
    await vi.waitFor(() => expect(problems.some((p) => p.code === 'TRANSCODER_FAILED')).toBe(true), {
      timeout: 5000,
    });
    expect(problems[0]).toMatchObject({
      entryId: second.channel.entryId,
      serverIndex: 0,
      parameter: `${second.channel.entryId}_1`,
    });
  });
});

describe('the drain time (--drain-time)', () => {
  it('is how long a stopping transcoder may finish on its own', async () => {
    const stop = vi.spyOn(Transcoder.prototype, 'stop');
    try {
      const { live, ingest, channel, request } = setup(undefined, { drainMs: 250 });
      await live.authorize(request('s20'));
      ingest.emit('published', {
        sessionId: 's20',
        internalPath: `/kLive/${channel.entryId}_1`,
        metadata: METADATA,
      });
      await tick();
      await live.stopChannel(channel.entryId);
      expect(stop).toHaveBeenCalledWith(250);
    } finally {
      stop.mockRestore();
    }
  });
});
