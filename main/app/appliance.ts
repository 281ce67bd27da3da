/**
 * The appliance core: plain Node.js, no Electron. Opens the database, starts the RTMP ingest child,
 * the origin listener and the admin listener, and stops them cleanly in reverse order.
 */
import { hasAdminCredentials } from '../access/admin-credentials.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from './admin-listener.js';
import { ControlEvents } from '../api/control-events.js';
import { EventTickets } from '../api/control-http.js';
import { ControlService } from '../api/control-service.js';
import { ControlFailure } from '../contract/contract.js';
import { ChannelStatistics, inputOf, outputsFromIndex } from '../channels/channel-statistics.js';
import { renditionProgress } from '../channels/channel-view.js';
import { settingsView, type SettingsPort } from '../settings/settings-service.js';
import { ChannelStore } from '../channels/channel-store.js';
import { LiveChannels } from '../channels/live-channels.js';
import { IngestServer } from '../ingest/ingest-server.js';
import { SrtIngest, srtCallers } from './srt-ingest.js';
import { FragmentWriter } from '../origin/fragment-writer.js';
import { createOriginServer, fastLaneOf } from './viewer-listener.js';
import { OriginStorage } from '../origin/origin-storage.js';
import { SegmentIndex } from '../origin/segment-index.js';
import { PublishAuthenticator } from '../partner/publish-authenticator.js';
import { publishingPointOptionsFor, toLiveEntry } from '../partner/kaltura-partner.js';
import type { PartnerBackend } from '../partner/partner.js';
import { createEcdnParts, type EcdnParts } from '../partner/ecdn.js';
import { StandalonePartner } from '../partner/standalone-partner.js';
import { openDatabase, type Db } from '../store/database.js';
import {
  loadDefaultProfile,
  parseConversionProfile,
  type ConversionProfile,
} from '../transcode/conversion-profile.js';
import { resolveFfmpeg, resolveFfprobe } from '../transcode/ffmpeg-binary.js';
import { SlatePlayer } from '../transcode/slate.js';
import { SlateImages } from '../transcode/slate-image.js';
import { ArchiveLibrary } from '../spaces/archive-library.js';
import { SpaceFiles } from '../spaces/space-media.js';
import { SpaceStore } from '../spaces/space-store.js';
import { channelLister, spaceLister } from '../portal/portal.js';
import { SigningKeys } from '../access/signing-keys.js';
import { ViewerStats } from '../origin/viewer-stats.js';
import { PublishingPoints } from '../origin/publishing-points.js';
import { PublishingPointStates } from '../origin/publishing-point-state.js';
import { reconcile } from '../origin/reconcile.js';
import {
  followAdminToken,
  resolveAdminToken,
  type AdminToken,
  type GeneratedTokenKeeping,
} from './admin-token.js';
import { applyLiveSettings, liveNow, type LiveNow } from './live-settings.js';
import type { SettingKey } from '../contract/contract.js';
import { APP_VERSION, appRoot } from '../lib/app-root.js';
import { stopHelpers } from '../lib/helper-processes.js';
import { parseAllowList } from '../lib/ip-allow-list.js';
import type { Logger } from '../lib/logger.js';
import { PushTargetStore } from '../push/push-target-store.js';
import { PushTargets } from '../push/push-targets.js';
import { AlertStates } from '../alerts/channel-alerts.js';
import { Webhooks } from '../alerts/webhooks.js';
import { ApplianceAlerts, diskSpace } from '../alerts/appliance-alerts.js';
import { TranscoderSpeedWatch } from '../alerts/transcoder-speed.js';
import { defaultPublicHost, defaultServerNodeName, webhookUrls, type ApplianceOptions } from './options.js';
import { bracketHost, ownAddress } from '../lib/host-name.js';
import { signQuery } from '../access/signed-url.js';
import { Edge, GIB } from '../edge/edge.js';
import { ServerNodeReporter } from '../partner/server-node.js';
import { channelLog, STOP_CAUSE_TEXT, type StopCause } from '../channels/channel-log.js';
import { changeEvent } from '../monitor/content-conditions.js';
import { ContentMonitors, monitorSource } from '../monitor/content-monitor.js';

export interface ApplianceUrls {
  rtmp: string;
  origin: string;
  admin: string;
}

/** What a started appliance is made of: its store, its live parts, its listeners and its control API. */
interface ApplianceParts {
  store: { db: Db; channels: ChannelStore; index: SegmentIndex };
  live: LiveChannels;
  ingest: IngestServer;
  /** The SRT ingest (absent with `--srt-port 0`). */
  srt: SrtIngest | undefined;
  listeners: { origin: FastifyInstance; admin: FastifyInstance };
  /** The control API, transport-neutral (the shell's IPC calls it), and its events. */
  control: { service: ControlService; events: ControlEvents };
  readiness: { ready: boolean };
  ecdn: EcdnParts | undefined;
  push: PushTargets;
  webhooks: Webhooks;
  applianceAlerts: ApplianceAlerts;
  /** The edge server node at Kaltura (`--edge-name`). */
  edgeNode: ServerNodeReporter | undefined;
  /** On-air confidence: each live channel's content monitor. */
  monitors: ContentMonitors;
  /** Viewers now, per channel (the origin's statistics). */
  viewers: (entryId: string) => number;
}

export class Appliance {
  private stopping: Promise<void> | undefined;

  private constructor(
    private opts: ApplianceOptions,
    readonly log: Logger,
    readonly adminToken: AdminToken,
    readonly urls: ApplianceUrls,
    private readonly parts: ApplianceParts,
  ) {}

  /** The options in effect (settings applied live change them). */
  get options(): ApplianceOptions {
    return this.opts;
  }

  /** Channels live now, and their viewers (asked before a settings change cuts them). */
  liveNow(): LiveNow {
    return liveNow(this.parts.store.channels.list(), this.parts.live, this.parts.viewers);
  }

  /** Applies the settings that need no restart (the admin token, webhook URLs) to the running core. */
  applyLive(next: ApplianceOptions, keys: readonly SettingKey[], tokenKeeping: GeneratedTokenKeeping): void {
    applyLiveSettings(keys, next, {
      adminToken: this.adminToken,
      webhooks: this.parts.webhooks,
      followTokenFile: (token) => followAdminToken(token, next.dataDir, tokenKeeping),
    });
    this.opts = { ...this.opts, ...Object.fromEntries(keys.map((k) => [k, next[k]])) };
  }

  /** The control API, transport-neutral (the shell's IPC calls it). */
  get control(): ControlService {
    return this.parts.control.service;
  }

  get events(): ControlEvents {
    return this.parts.control.events;
  }

  /** `tokenKeeping`: where a generated admin token is kept (the desktop app keeps secrets only in the keychain). */
  static async start(
    options: ApplianceOptions,
    log: Logger,
    settings?: SettingsPort,
    tokenKeeping: GeneratedTokenKeeping = 'file',
  ): Promise<Appliance> {
    const ffmpeg = resolveFfmpeg(options.ffmpeg);
    log.info({ ffmpeg: ffmpeg.path, source: ffmpeg.source }, 'ffmpeg resolved');
    const profile: ConversionProfile = options.conversionProfile
      ? parseConversionProfile(fs.readFileSync(options.conversionProfile, 'utf8'))
      : loadDefaultProfile();
    // Private to the user the appliance runs as: the database holds stream tokens, the directory the admin token.
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(options.dataDir, 0o700);
    const adminToken = resolveAdminToken(options.adminToken, options.dataDir, tokenKeeping);
    const db = openDatabase(options.dataDir);
    const channels = new ChannelStore(db);
    const index = new SegmentIndex(db);
    const storage = new OriginStorage(options.dataDir);
    storage.cache.setBudget(options.fragmentCache * 1024 * 1024);
    const fragments = new FragmentWriter(index, storage, log.child({ part: 'origin' }));
    const pps = new PublishingPoints(index, storage, log.child({ part: 'publishing-points' }));
    // The one writer of publishing point states.
    const states = new PublishingPointStates(index);
    const reconciled = reconcile(index, storage, states);
    if (reconciled.stopped.length + reconciled.removedFiles + reconciled.droppedRows > 0) {
      log.warn(reconciled, 'reconciled the segment index with the disk after an unclean stop');
    }
    const ecdn = options.mode === 'ecdn' ? createEcdnPartner(options, log) : undefined;
    const partner: PartnerBackend = ecdn?.partner ?? new StandalonePartner(options.partnerId, channels);
    const authenticator = new PublishAuthenticator(
      partner,
      ecdn?.partner.client.serverNodeName ?? os.hostname(),
      { skipMs: options.authSkip * 1000, blockMs: options.authBlock * 1000 },
    );
    const publicHost = options.publicHost ?? defaultPublicHost(options.bind);

    // SRT callers are relayed into the RTMP ingest, and decided there as their own publishes.
    let srt: SrtIngest | undefined;
    const ingest: IngestServer = new IngestServer({
      bind: options.bind,
      rtmpPort: options.rtmpPort,
      workDir: path.join(options.dataDir, 'ingest'),
      log: log.child({ part: 'ingest' }),
      authorize: (req) => (srt ? srt.authorize(req, (r) => live.authorize(r)) : live.authorize(req)),
    });
    // The slate: a still card with silence while a channel's encoder is away (--slate-duration).
    const slateImages = new SlateImages(
      options.dataDir,
      path.join(appRoot(), 'resources', 'slate', 'default-slate.png'),
      ffmpeg.path,
    );
    const slate = new SlatePlayer({
      ffmpegPath: ffmpeg.path,
      fragments,
      image: () => slateImages.current(),
      durationMs: options.slateDuration * 1000,
      log: log.child({ part: 'slate' }),
    });
    const live: LiveChannels = new LiveChannels({
      channels,
      authenticator,
      ingest,
      fragments,
      pps,
      states,
      slate,
      drainMs: options.drainTime * 1000,
      ffmpegPath: ffmpeg.path,
      profileFor: ecdn ? ecdn.profileFor : async () => profile,
      ppOptionsFor: ecdn ? publishingPointOptionsFor : undefined,
      recordEntries: ecdn !== undefined,
      hooks: ecdn && {
        ingestStarted: (s) =>
          ecdn.registration.started(s.request.entryId, s.request.serverIndex, s.sessionId),
        ingestEnded: (s) => ecdn.registration.ended(s.request.entryId, s.request.serverIndex, s.sessionId),
        playable: (entryId) => ecdn.registration.playable(entryId),
        problem: (p) => ecdn.beacons.report(p),
      },
      defaultPpOptions: {
        dvr_window_length: String(options.dvrWindow),
        fragment_duration: String(options.fragmentDuration),
      },
      log: log.child({ part: 'channels' }),
    });
    ingest.on('restarting', (r) => log.error(r, 'RTMP ingest restarting'));
    if (options.srtPort !== 0) {
      srt = new SrtIngest({
        bind: options.bind,
        srtPort: options.srtPort,
        rtmpPort: options.rtmpPort,
        ffmpegPath: ffmpeg.path,
        partnerId: ecdn?.partner.partnerId ?? options.partnerId,
        channels,
        record: channelLog(channels, log.child({ part: 'srt' })),
        refused: live.refused,
        attempts: live.attempts,
        knownEntriesOnly: ecdn === undefined,
        log: log.child({ part: 'srt' }),
        ...(ecdn
          ? {
              learnEntry: async (entryId: string) => {
                const e = toLiveEntry(await ecdn.partner.client.getEntry(entryId));
                channels.upsertEntry(
                  e.id,
                  ecdn.partner.partnerId,
                  e.name,
                  undefined,
                  undefined,
                  e.srtPass ?? null,
                );
              },
            }
          : {}),
      });
    }
    // Push targets follow each channel's live stream (copied from the ingest, one ffmpeg per target).
    // A transcoded rendition is pushed from the origin's track playlists on this machine (signed when secure).
    const originHere = `http://${bracketHost(ownAddress(options.bind))}:${options.httpPort}`;
    const push = new PushTargets({
      renditionUrls: (entryId, rendition) => {
        const c = channels.get(entryId);
        const scope = `/${entryId}/${entryId}.isml/`;
        const q =
          c?.access === 'secure'
            ? `?${signQuery(keys.current(), {
                scope,
                expiresAt: Math.floor(Date.now() / 1000) + 24 * 3600,
                generation: c.signedGeneration,
              })}`
            : '';
        return {
          video: `${originHere}${scope}tracks/video_${rendition}.m3u8${q}`,
          audio: `${originHere}${scope}tracks/audio_${rendition}.m3u8${q}`,
        };
      },
      store: new PushTargetStore(db),
      ffmpegPath: ffmpeg.path,
      pullUrl: (internalPath) => ingest.pullUrl(internalPath),
      log: log.child({ part: 'push' }),
    });
    live.follow(push);
    // Alerts (a channel event that starts or ends one) as signed webhooks.
    const webhooks = new Webhooks({
      urls: webhookUrls(options.webhookUrl),
      secret: options.webhookSecret ?? '',
      log: log.child({ part: 'webhooks' }),
    });
    const alerts = new AlertStates();
    channels.on('event', (e) => {
      const n = alerts.fromEvent(e);
      if (n) webhooks.notify(n);
    });
    // On-air confidence: one cheap ffmpeg per started channel (black, frozen, silence; the thumbnail).
    const thumbnailFile = (pp: string) => path.join(storage.ppDir(pp), 'thumbnail.jpg');
    const monitors = new ContentMonitors({
      ffmpegPath: ffmpeg.path,
      states,
      sourceOf: (entryId) => monitorSource(live.ingestsOf(entryId)),
      pullUrl: (internalPath) => ingest.pullUrl(internalPath),
      thumbnailFile,
      log: log.child({ part: 'monitor' }),
    });
    const recordCondition = channelLog(channels, log.child({ part: 'monitor' }));
    monitors.on('change', (c) => {
      const e = changeEvent(c);
      recordCondition(c.entryId, e.level, e.code, e.message);
    });
    monitors.start();
    // A publishing point with an encoder on it is active even before its first fragment.
    pps.busy = (id) => live.isLive(id) || live.transcodersOf(id).length > 0;

    const endpoints = {
      host: publicHost,
      rtmpPort: options.rtmpPort,
      httpPort: options.httpPort,
      // Known once the SRT child listens (0: off, or not listening).
      get srtPort() {
        return srt?.port ?? 0;
      },
    };
    // Publishing point events (purge progress, create/delete) land on the channel's event list when it is one.
    pps.on('event', (e) => {
      if (e.code === 'PUBLISHING_POINT_CREATED' || e.code === 'PUBLISHING_POINT_DELETED')
        states.announce(e.pp);
      if (channels.get(e.pp)) channels.addEvent(e.pp, e.level, e.code, e.message);
      log[e.level]({ pp: e.pp, code: e.code }, e.message);
    });
    const keys = new SigningKeys(options.dataDir, options.signingOverlap * 3600 * 1000);
    const spaces = new SpaceStore(db);
    const spaceFiles = new SpaceFiles(options.dataDir, ffmpeg.path, ffprobeOrName(ffmpeg.path, log));
    const stats = new ViewerStats();
    stats.start();
    // Asked on every origin request: remembered, forgotten when the channel changes.
    const accessByPp = new Map<string, { access: 'open' | 'secure'; signedGeneration: number }>();
    channels.on('changed', (entryId) => accessByPp.delete(entryId));
    const accessOf = (pp: string) => {
      let a = accessByPp.get(pp);
      if (a === undefined) {
        const c = channels.get(pp);
        a = { access: c?.access ?? 'open', signedGeneration: c?.signedGeneration ?? 0 };
        accessByPp.set(pp, a);
      }
      return a;
    };
    // The edge (Kaltura's KES role): /kCache/ on the origin listener, off unless --edge-origins lists hosts.
    const edge = new Edge({
      dataDir: options.dataDir,
      origins: options.edgeOrigins,
      cacheBytes: Math.floor(options.edgeCacheSize * GIB),
      log: log.child({ part: 'edge' }),
    });
    const host = bracketHost(publicHost);
    const edgeNode =
      ecdn && options.edgeName !== undefined
        ? new ServerNodeReporter(ecdn.partner.client, {
            name: options.edgeName,
            role: 'edge',
            objectType: 'KalturaEdgeServerNode',
            // Kaltura sends players to <scheme>://<playbackDomain>/kCache/<origin-host>/<path>.
            fields: {
              playbackDomain: options.httpPort === 80 ? host : `${host}:${options.httpPort}`,
              ...(options.edgeParentId !== undefined ? { parentId: options.edgeParentId } : {}),
            },
            partnerId: options.partnerId,
            intervalMs: options.serverNodeInterval * 1000,
            log: log.child({ part: 'edge-node' }),
          })
        : undefined;
    if (edgeNode) edge.node = () => edgeNode.view();
    const origin = createOriginServer({
      edge,
      index,
      storage,
      pps,
      keys,
      accessFor: (pp) => accessOf(pp).access,
      signedGeneration: (pp) => accessOf(pp).signedGeneration,
      stats,
      spaces: { spaces, files: spaceFiles },
      portal: { listChannels: channelLister(channels, index), listSpaces: spaceLister(spaces) },
      trustedProxies: parseAllowList(options.trustedProxies),
      // The token now (it can change from the settings page without a restart).
      isAdmin: (req) => hasAdminCredentials(req, adminToken.token),
      statusAllow: parseAllowList(options.statusAllow),
      adminAllow: parseAllowList(options.adminAllow),
      thumbnailFile,
      log,
    });
    const readiness = { ready: false };
    const statistics = new ChannelStatistics({
      entryIds: () => channels.list().map((c) => c.entryId),
      viewers: (entryId) => stats.totals(entryId),
      renditions: (entryId) => renditionProgress(live, entryId).map(({ restarts: _restarts, ...r }) => r),
      outputs: (entryId) => outputsFromIndex(index, entryId),
      input: (entryId) => inputOf(live.ingestsOf(entryId), index.getTrack(entryId, 'video_source')),
    });
    const events = new ControlEvents({ channels, states, index, statistics, edge });
    push.on('changed', (entryId) => events.publish({ type: 'targets.changed', entryId }));
    live.refused.on('changed', () => events.publish({ type: 'refusals.changed' }));
    // A transcoder slower than real time is a channel alert; the disk and the binding are the appliance's.
    const speedWatch = new TranscoderSpeedWatch((entryId, level, code, message) =>
      channels.addEvent(entryId, level, code, message),
    );
    events.on((e) => {
      if (e.type === 'statistics') speedWatch.sample(e.samples);
    });
    const applianceAlerts = new ApplianceAlerts({
      disk: () => diskSpace(options.dataDir),
      ...(ecdn ? { binding: () => ecdn.partner.status } : {}),
      notify: (n) => webhooks.notify(n),
      log: log.child({ part: 'alerts' }),
    });
    const startedAt = new Date().toISOString();
    const urls: ApplianceUrls = {
      rtmp: `rtmp://${host}:${options.rtmpPort}/kLive`,
      origin: `http://${host}:${options.httpPort}/`,
      admin: `http://${host}:${options.adminPort}/`,
    };
    // One-time tickets: the event WebSocket's, and archive download links'.
    const tickets = new EventTickets();
    const service = new ControlService({
      mode: options.mode,
      partnerId: options.partnerId,
      channels,
      live,
      index,
      pps,
      keys,
      endpoints,
      statistics,
      edge,
      slate: { images: slateImages, durationSeconds: options.slateDuration },
      push,
      webhooks,
      settings: settings ?? readOnlySettings(options),
      onEvent: (l) => events.on(l),
      content: {
        channelAlerts: (entryId) => monitors.channelAlerts(entryId),
        channelMonitor: (entryId) => monitors.channelMonitor(entryId),
        isSrtSession: (sessionId) => srt?.server.isRelay(sessionId) ?? false,
        srtStatsOf: (sessionId) => srt?.server.statsOf(sessionId),
      },
      ppDefaults: {
        dvr_window_length: String(options.dvrWindow),
        fragment_duration: String(options.fragmentDuration),
      },
      library: new ArchiveLibrary({
        spaces,
        files: spaceFiles,
        pps,
        ffmpegPath: ffmpeg.path,
        originBase: `http://${host}:${options.httpPort}`,
      }),
      tickets,
      log: log.child({ part: 'control' }),
      status: () => ({
        version: APP_VERSION,
        mode: options.mode,
        partnerId: options.partnerId,
        urls,
        dataDir: options.dataDir,
        startedAt,
        ready: readiness.ready,
        pid: process.pid,
        uptimeSeconds: Math.round(process.uptime()),
        ingest: { pid: ingest.pid ?? null, listening: ingest.isListening, restarts: ingest.restarts },
        ...(srt
          ? {
              srt: {
                pid: srt.server.pid ?? null,
                listening: srt.server.isListening,
                port: srt.port,
                restarts: srt.server.restarts,
                ...(srt.error ? { error: srt.error } : {}),
              },
            }
          : {}),
        ffmpeg: ffmpeg.path,
        ...(applianceAlerts.disk ? { disk: applianceAlerts.disk } : {}),
        ...(ecdn ? { serviceUrl: options.serviceUrl, binding: ecdn.partner.status } : {}),
      }),
    });
    const admin = createAdminServer({
      // Read on every request: a token changed in the settings applies at once.
      get adminToken() {
        return adminToken.token;
      },
      partnerId: options.partnerId,
      mode: options.mode,
      channels,
      live,
      index,
      pps,
      keys,
      stats,
      edge,
      alerts: monitors,
      applianceAlerts: {
        disk: () => applianceAlerts.disk,
        bindingLost: () => applianceAlerts.bindingIsLost,
        slowTranscoders: () => speedWatch.slow(),
      },
      ...(srt ? { srt: { callers: () => srtCallers(srt, channels, live) } } : {}),
      fastLane: fastLaneOf(origin),
      spaces: {
        spaces,
        files: spaceFiles,
        originBase: `http://${host}:${options.httpPort}`,
        maxUploadBytes: options.maxUpload * 1024 * 1024,
      },
      ffmpegPath: ffmpeg.path,
      allow: parseAllowList(options.adminAllow),
      endpoints,
      log,
      isReady: () => readiness.ready,
      service,
      events,
      tickets,
    });
    ecdn?.partner.start();
    try {
      await ingest.start();
      await srt?.start();
      await origin.listen({ port: options.httpPort, host: options.bind });
      await admin.listen({ port: options.adminPort, host: options.bind });
    } catch (err) {
      await ecdn?.partner.stop();
      await Promise.allSettled([ingest.stop(), srt?.stop(), origin.close(), admin.close()]);
      stats.stop();
      db.close();
      throw err;
    }
    events.start();
    applianceAlerts.start();
    // Reported once the origin listener answers /kCache/; failures are kept on the node's view, and retried.
    void edgeNode?.start();
    readiness.ready = true;
    return new Appliance(options, log, adminToken, urls, {
      store: { db, channels, index },
      live,
      ingest,
      srt,
      listeners: { origin, admin },
      control: { service, events },
      readiness,
      ecdn,
      push,
      webhooks,
      applianceAlerts,
      edgeNode,
      monitors,
      viewers: (entryId) => stats.totals(entryId).viewers,
    });
  }

  get isReady(): boolean {
    return this.parts.readiness.ready;
  }

  /**
   * Encoders disconnected, transcoders stopped (last fragments written), manifests final, database closed. Each
   * live channel's events say why (`cause`): the appliance shut down, or restarted to apply saved settings.
   */
  stop(cause: Extract<StopCause, 'shutdown' | 'settings-saved'> = 'shutdown'): Promise<void> {
    const p = this.parts;
    this.stopping ??= (async () => {
      p.readiness.ready = false;
      this.log.info('shutting down');
      p.live.stopping(cause);
      for (const c of this.liveNow().channels)
        p.store.channels.addEvent(
          c.entryId,
          'warn',
          'APPLIANCE_STOPPING',
          `${STOP_CAUSE_TEXT[cause]}: the stream stops`,
        );
      p.control.events.stop();
      await p.push.stopAll();
      p.applianceAlerts.stop();
      await p.webhooks.close();
      await p.srt?.stop();
      await p.ingest.stop();
      await p.live.stopAll();
      await p.monitors.stopAll();
      await p.ecdn?.registration.stopAll();
      await p.edgeNode?.stop();
      // Last: the server node reported not operational once nothing is registered on it.
      await p.ecdn?.partner.stop();
      await Promise.allSettled([p.listeners.origin.close(), p.listeners.admin.close()]);
      await stopHelpers();
      p.store.db.close();
      this.log.info('stopped');
    })();
    return this.stopping;
  }
}

/** The partner's secret, from the environment or a file; never from a flag, never logged. */
function partnerSecret(options: ApplianceOptions): string {
  if (options.partnerSecret) return options.partnerSecret;
  const file = options.partnerSecretFile as string;
  let secret: string;
  try {
    secret = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `cannot read the partner secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (!secret) throw new Error(`the partner secret file ${file} is empty`);
  return secret;
}

/** eCDN mode's parts, from the options. */
function createEcdnPartner(options: ApplianceOptions, log: Logger): EcdnParts {
  return createEcdnParts(
    {
      serviceUrl: options.serviceUrl as string,
      partnerId: options.partnerId,
      adminSecret: partnerSecret(options),
      timeoutMs: options.serviceTimeout * 1000,
      serverNodeName: options.serverNodeName ?? defaultServerNodeName(),
      serverNodeIntervalMs: options.serverNodeInterval * 1000,
      impersonation: options.impersonation === 'on',
      authGraceMs: options.authGrace * 1000,
      fallbackProfile: options.fallbackProfile
        ? parseConversionProfile(fs.readFileSync(options.fallbackProfile, 'utf8'))
        : loadDefaultProfile(path.join(appRoot(), 'resources', 'conversion-profiles', 'passthrough.xml')),
    },
    log,
  );
}

/** Settings when the core runs without a host (no store to save to): shown, not changed. */
function readOnlySettings(options: ApplianceOptions): SettingsPort {
  const refuse = async (): Promise<never> => {
    throw new ControlFailure(
      409,
      'SETTINGS_READ_ONLY',
      'this appliance was started without a settings store',
    );
  };
  return {
    firstRun: () => false,
    view: () => settingsView(options, {}, 'none', defaultServerNodeName()),
    update: refuse,
    testConnection: refuse,
  };
}

/**
 * ffprobe checks uploads to spaces only, and the packaged app bundles ffmpeg alone: a missing ffprobe is a
 * warning at start and a clear error on upload, not a core that will not start.
 */
function ffprobeOrName(ffmpegPath: string, log: Logger): string {
  try {
    return resolveFfprobe(ffmpegPath);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'ffprobe not found: uploads to spaces will be refused');
    return 'ffprobe';
  }
}
