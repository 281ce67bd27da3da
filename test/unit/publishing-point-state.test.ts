/** The publishing point state machine (the one writer of the state) and the dashboard events that follow it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ControlEvents } from '../../main/api/control-events.js';
import { ChannelStatistics } from '../../main/channels/channel-statistics.js';
import { ChannelStore } from '../../main/channels/channel-store.js';
import type { ControlEvent } from '../../main/contract/contract.js';
import { PublishingPointStates, type StateChange } from '../../main/origin/publishing-point-state.js';
import { SegmentIndex } from '../../main/origin/segment-index.js';
import { openDatabase, type Db } from '../../main/store/database.js';

const dbs: Array<{ db: Db; dir: string }> = [];
afterEach(() => {
  for (const { db, dir } of dbs.splice(0)) {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  vi.useRealTimers();
});

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-states-'));
  const db = openDatabase(dir);
  dbs.push({ db, dir });
  const index = new SegmentIndex(db);
  const states = new PublishingPointStates(index);
  const changes: StateChange[] = [];
  states.on('state', (c) => changes.push(c));
  return { db, index, states, changes };
}

describe('PublishingPointStates', () => {
  it('moves idle → starting → started only while fed, then stopping → stopped, writing the index', () => {
    const { index, states, changes } = fixture();
    index.createPublishingPoint('ch1', {});
    let fed = false;
    states.isFed = () => fed;
    states.starting('ch1');
    states.started('ch1');
    expect(index.getPublishingPoint('ch1')?.state).toBe('idle');
    fed = true;
    states.starting('ch1');
    states.starting('ch1');
    states.started('ch1');
    // A second stream joining a started point does not take it back to starting.
    states.starting('ch1');
    expect(index.getPublishingPoint('ch1')?.state).toBe('started');
    states.stopping('ch1');
    states.started('ch1');
    expect(index.getPublishingPoint('ch1')?.state).toBe('stopping');
    states.stopped('ch1');
    expect(changes.map((c) => c.state)).toEqual(['starting', 'started', 'stopping', 'stopped']);
    expect(index.getPublishingPoint('ch1')?.state).toBe('stopped');
    // A new run restarts it from stopped.
    states.started('ch1');
    expect(index.getPublishingPoint('ch1')?.state).toBe('started');
  });

  it('halt stops what was fed and leaves an idle point idle; unknown points are ignored', () => {
    const { index, states, changes } = fixture();
    index.createPublishingPoint('idle1', {});
    states.halt('idle1');
    states.halt('nope');
    states.stopped('nope');
    expect(changes).toEqual([]);
    states.isFed = () => true;
    states.started('idle1');
    states.halt('idle1');
    expect(changes.map((c) => c.state)).toEqual(['started', 'stopped']);
  });

  it('announce tells the state of a created or deleted point', () => {
    const { index, states, changes } = fixture();
    index.createPublishingPoint('ch2', {});
    states.announce('ch2');
    index.deletePublishingPoint('ch2');
    states.announce('ch2');
    expect(changes).toEqual([
      { entryId: 'ch2', state: 'idle' },
      { entryId: 'ch2', state: 'idle' },
    ]);
  });
});

describe('ControlEvents', () => {
  it('pushes a state change the moment the state machine makes it, with no polling, once per change', () => {
    vi.useFakeTimers();
    const { db, index, states } = fixture();
    const channels = new ChannelStore(db);
    const c = channels.create('Town hall', 1);
    index.createPublishingPoint(c.entryId, {});
    const statistics = new ChannelStatistics({
      entryIds: () => [],
      viewers: () => ({ viewers: 0, bytesServed: 0 }),
      renditions: () => [],
    });
    const events = new ControlEvents({ channels, states, index, statistics });
    const seen: ControlEvent[] = [];
    events.on((e) => seen.push(e));
    events.start();
    try {
      states.isFed = () => true;
      states.started(c.entryId);
      states.announce(c.entryId);
      expect(seen).toEqual([{ type: 'channel.state', entryId: c.entryId, state: 'started' }]);
      // A write behind the state machine's back is not picked up: there is no poll to find it.
      index.setState(c.entryId, 'stopped');
      vi.advanceTimersByTime(5_000);
      expect(seen.filter((e) => e.type === 'channel.state')).toHaveLength(1);
    } finally {
      events.stop();
    }
  });
});
