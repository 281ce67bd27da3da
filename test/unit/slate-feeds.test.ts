/**
 * The ingest feeds and the slate, with a fake ingest and a fake slate: the slate goes on air when the last ingest
 * of a channel stops (not when the channel is stopped), comes off before a returning encoder's transcoder starts,
 * and its expiry ends the presentation.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelStore } from '../../main/channels/channel-store.js';
import type { FeedSlate } from '../../main/channels/ingest-feeds.js';
import { LiveChannels, type LiveChannelsOptions } from '../../main/channels/live-channels.js';
import type { IngestServer, PublishRequest } from '../../main/ingest/ingest-server.js';
import { createLogger } from '../../main/lib/logger.js';
import { FragmentWriter } from '../../main/origin/fragment-writer.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import { PublishingPointStates } from '../../main/origin/publishing-point-state.js';
import { PublishingPoints } from '../../main/origin/publishing-points.js';
import { SegmentIndex } from '../../main/origin/segment-index.js';
import { PublishAuthenticator } from '../../main/partner/publish-authenticator.js';
import { StandalonePartner } from '../../main/partner/standalone-partner.js';
import { openDatabase } from '../../main/store/database.js';
import { loadDefaultProfile } from '../../main/transcode/conversion-profile.js';

class FakeIngest extends EventEmitter {
  disconnect(): void {}
  streamUrl(p: string): string {
    return `rtmp://127.0.0.1:1/${p}`;
  }
  pullUrl(p: string): string {
    return `rtmp://127.0.0.1:1/${p}?k=1`;
  }
}

/** Records what it is asked; `expire` ends a slate as its timer would. */
class FakeSlate extends EventEmitter<{ ended: [string, 'expired' | 'stopped'] }> {
  readonly calls: string[] = [];
  private readonly on_ = new Set<string>();
  enabled = true;
  durationMs = 300_000;
  playing(pp: string): boolean {
    return this.on_.has(pp);
  }
  play(pp: string): boolean {
    this.calls.push(`play ${pp}`);
    this.on_.add(pp);
    return true;
  }
  async stop(pp: string): Promise<void> {
    if (!this.on_.delete(pp)) return;
    this.calls.push(`stop ${pp}`);
    this.emit('ended', pp, 'stopped');
  }
  expire(pp: string): void {
    this.on_.delete(pp);
    this.emit('ended', pp, 'expired');
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const METADATA = { width: 640, height: 360, videocodecidstring: 'h264', audiocodecidstring: 'aac' };
const tick = (ms = 100) => new Promise((r) => setTimeout(r, ms));

function setup(hooks: LiveChannelsOptions['hooks'] = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-slate-feeds-'));
  // A stand-in for ffmpeg that only waits (and ends on SIGINT like ffmpeg).
  const fakeFfmpeg = path.join(dir, 'ffmpeg');
  fs.writeFileSync(fakeFfmpeg, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const db = openDatabase(dir);
  const log = createLogger('silent');
  const channels = new ChannelStore(db);
  const index = new SegmentIndex(db);
  const storage = new OriginStorage(dir);
  const ingest = new FakeIngest();
  const slate = new FakeSlate();
  const live = new LiveChannels({
    channels,
    authenticator: new PublishAuthenticator(new StandalonePartner(1, channels), 'test'),
    ingest: ingest as unknown as IngestServer,
    fragments: new FragmentWriter(index, storage, log),
    pps: new PublishingPoints(index, storage, log),
    states: new PublishingPointStates(index),
    ffmpegPath: fakeFfmpeg,
    profileFor: async () => loadDefaultProfile(),
    defaultPpOptions: {},
    slate: slate as unknown as FeedSlate,
    hooks,
    drainMs: 20,
    log,
  });
  cleanups.push(() => {
    void live.stopAll().finally(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
  const channel = channels.create('slate', 1);
  const request = (sessionId: string): PublishRequest => ({
    sessionId,
    remote: '127.0.0.1',
    app: 'kLive',
    query: { p: '1', e: channel.entryId, i: '0', t: channel.token },
    streamName: `${channel.entryId}_1`,
  });
  const publish = async (sessionId: string): Promise<void> => {
    await live.authorize(request(sessionId));
    ingest.emit('published', { sessionId, internalPath: `/kLive/${channel.entryId}_1`, metadata: METADATA });
    await tick();
    // The transcoder's first fragments would move the state; the fake ffmpeg writes none.
    index.setState(channel.entryId, 'started');
  };
  const leave = async (sessionId: string): Promise<void> => {
    ingest.emit('unpublished', { sessionId, bytesIn: 0 });
    await tick();
  };
  const state = () => index.getPublishingPoint(channel.entryId)?.state;
  const codes = () => channels.events(channel.entryId).map((e) => e.code);
  return { live, slate, channel, publish, leave, state, codes };
}

describe('the slate in the ingest feeds', () => {
  it('goes on air when the encoder leaves, off before it returns; the presentation stays started', async () => {
    const { live, slate, channel, publish, leave, state, codes } = setup();
    await publish('s1');
    await leave('s1');
    expect(slate.calls).toEqual([`play ${channel.entryId}`]);
    expect(state()).toBe('started');
    expect(codes()).toContain('SLATE_ON_AIR');
    expect(live.transcodersOf(channel.entryId)).toEqual([]);

    await publish('s2');
    expect(slate.calls).toEqual([`play ${channel.entryId}`, `stop ${channel.entryId}`]);
    expect(live.transcodersOf(channel.entryId)).toHaveLength(1);
    expect(codes()).toContain('SLATE_OFF_AIR');
    expect(state()).toBe('started');
  });

  it('ends the presentation when its time is up', async () => {
    const { slate, channel, publish, leave, state, codes } = setup();
    await publish('s1');
    await leave('s1');
    expect(state()).toBe('started');
    slate.expire(channel.entryId);
    expect(state()).toBe('stopped');
    expect(codes().filter((c) => c === 'SLATE_OFF_AIR')).toHaveLength(1);
  });

  it('comes off when staff stop the channel, and never plays for a stopped channel', async () => {
    const { live, slate, channel, publish, leave, state } = setup();
    await publish('s1');
    await leave('s1');
    await live.stopChannel(channel.entryId);
    expect(slate.calls).toEqual([`play ${channel.entryId}`, `stop ${channel.entryId}`]);
    expect(state()).toBe('stopped');
    await live.startChannel(channel.entryId);
    await publish('s2');
    await live.stopChannel(channel.entryId);
    // A stop by staff ends the presentation at once: no slate.
    expect(slate.calls).toHaveLength(2);
    expect(state()).toBe('stopped');
  });

  it('without a slate (--slate-duration 0) the presentation ends with the encoder', async () => {
    const { slate, publish, leave, state } = setup();
    slate.enabled = false;
    await publish('s1');
    await leave('s1');
    expect(slate.calls).toEqual([]);
    expect(state()).toBe('stopped');
  });

  it("keeps the entry live for Kaltura's registration while the slate plays", async () => {
    const told: string[] = [];
    const { slate, channel, publish, leave } = setup({
      ingestStarted: (s) => told.push(`started ${s.sessionId}`),
      ingestEnded: (s) => told.push(`ended ${s.sessionId}`),
    });
    await publish('s1');
    await leave('s1');
    expect(told).toEqual(['started s1']);
    // The encoder returns: registered again before the first session's end is told.
    await publish('s2');
    expect(told).toEqual(['started s1', 'started s2', 'ended s1']);
    await leave('s2');
    slate.expire(channel.entryId);
    expect(told).toEqual(['started s1', 'started s2', 'ended s1', 'ended s2']);
  });
});
