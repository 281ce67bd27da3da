/**
 * The end-to-end tests' fixtures (vitest's `test.extend`): what a test asks for by name is started for it, once
 * per file for the expensive things, and stopped when the file is done, whatever happened.
 *
 * - `appliance` (file): the real headless appliance from {@link startAppliance}, stopped after the file; its data
 *   directory is removed too unless the file named one. Started with `applianceOptions`.
 * - `startOtherAppliance` (file): {@link startAppliance} for more appliances (other flags), each stopped (and its
 *   data directory removed unless named) when the file is done.
 * - `liveChannel` (file): a standalone channel created through the control API on that appliance, named
 *   `liveChannelName`, with `publishUrl` (broadcast URL + `/` + stream name, what ffmpeg publishes to).
 * - `encoder` (file): ffmpeg publishing to `liveChannel` with `encoderOptions` from the first test that asks for
 *   it; stopped after the file.
 * - `publishForFile` (file): {@link publishEncoder} whose encoders are stopped when the file is done (an encoder
 *   that several tests share, for a channel other than `liveChannel`).
 * - `browser` (file): headless Chromium ({@link launchChromium} with `browserArgs`), closed after the file.
 * - `players` (file): the hls.js page server of test/helpers/player.ts, closed after the file.
 * - `publish` (test): {@link publishEncoder} whose encoders are stopped when the test ends.
 *
 * Options are fixtures too, so a file sets them at its top level (not inside a describe):
 *
 * ```ts
 * test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
 * test.override('encoderOptions', { seconds: 30 });
 * ```
 *
 * An option that depends on another file fixture (a Kaltura double's URL, say) is overridden with a function of it:
 * `base.extend('kaltura', { scope: 'file' }, …).override('applianceOptions', ({ kaltura }) => ({ … }))`.
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { describe, expect, test as base } from 'vitest';
import {
  createChannel,
  startAppliance,
  type ChannelJson,
  type RunningAppliance,
  type StartOptions,
} from './appliance.js';
import { launchChromium } from './browser.js';
import { ffmpegUrl, publish as publishEncoder, type PublishOptions, type Publisher } from './encoder.js';
import { startPlayerServer } from './player.js';

export { describe, expect };

/** A channel created through the control API, and the URL an encoder publishes it to. */
export interface LiveChannel extends ChannelJson {
  /** Broadcast URL + `/` + stream name: the URL ffmpeg publishes to. */
  publishUrl: string;
}

export const test = base
  .extend('applianceOptions', { scope: 'file' }, {} as StartOptions)
  .extend('appliance', { scope: 'file' }, async ({ applianceOptions }, { onCleanup }) => {
    const a = await startAppliance(applianceOptions);
    onCleanup(async () => {
      await a.stop();
      if (applianceOptions.dataDir === undefined) fs.rmSync(a.dataDir, { recursive: true, force: true });
    });
    return a;
  })
  // eslint-disable-next-line no-empty-pattern
  .extend('startOtherAppliance', { scope: 'file' }, async ({}, { onCleanup }) => {
    const started: Array<{ a: RunningAppliance; o: StartOptions }> = [];
    onCleanup(async () => {
      await Promise.all(started.map(({ a }) => a.stop()));
      for (const { a, o } of started)
        if (o.dataDir === undefined) fs.rmSync(a.dataDir, { recursive: true, force: true });
    });
    return async (o: StartOptions = {}): Promise<RunningAppliance> => {
      const a = await startAppliance(o);
      started.push({ a, o });
      return a;
    };
  })
  .extend('liveChannelName', { scope: 'file' }, 'Live channel')
  .extend('liveChannel', { scope: 'file' }, async ({ appliance, liveChannelName }): Promise<LiveChannel> => {
    const c = await createChannel(appliance, liveChannelName);
    return { ...c, publishUrl: ffmpegUrl(c.broadcastUrl, c.streamName) };
  })
  // eslint-disable-next-line no-empty-pattern
  .extend('publishForFile', { scope: 'file' }, async ({}, { onCleanup }) => encoders(onCleanup))
  .extend('encoderOptions', { scope: 'file' }, {} as PublishOptions)
  .extend('encoder', { scope: 'file' }, ({ liveChannel, encoderOptions, publishForFile }) =>
    publishForFile(liveChannel.publishUrl, encoderOptions),
  )
  .extend('browserArgs', { scope: 'file' }, [] as string[])
  .extend('browser', { scope: 'file' }, async ({ browserArgs }, { onCleanup }): Promise<Browser> => {
    const b = await launchChromium(browserArgs);
    onCleanup(() => b.close());
    return b;
  })
  // eslint-disable-next-line no-empty-pattern
  .extend('players', { scope: 'file' }, async ({}, { onCleanup }) => {
    const p = await startPlayerServer();
    onCleanup(() => p.close());
    return p;
  })
  // eslint-disable-next-line no-empty-pattern
  .extend('publish', async ({}, { onCleanup }) => encoders(onCleanup));

/** A publish function whose encoders are all stopped at cleanup (of the file or of the test). */
function encoders(
  onCleanup: (fn: () => Promise<void>) => void,
): (url: string, o?: PublishOptions) => Publisher {
  const started: Publisher[] = [];
  onCleanup(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });
  return (url, o) => {
    const p = publishEncoder(url, o);
    started.push(p);
    return p;
  };
}
