/**
 * The control API's operations, transport-neutral: each validates its request and returns the contract's
 * response, or throws a `ControlFailure` (code + HTTP status). `dispatch` turns both into a `ControlResult`
 * for IPC; the HTTP transport (control-http.ts) calls the same handlers.
 */
import { z } from 'zod';
import { SignedUrlError, signQuery } from '../access/signed-url.js';
import type { SigningKeys } from '../access/signing-keys.js';
import type { ChannelStore } from '../channels/channel-store.js';
import type { ChannelStatistics } from '../channels/channel-statistics.js';
import {
  channelView,
  eventView,
  type ChannelContent,
  type PublicEndpoints,
} from '../channels/channel-view.js';
import type { LiveChannels } from '../channels/live-channels.js';
import { parseAllowList } from '../lib/ip-allow-list.js';
import type { Logger } from '../lib/logger.js';
import { trackRanges } from '../origin/archive-ranges.js';
import {
  DEFAULT_PP_OPTIONS,
  onlyAddsRecording,
  recordingOf,
  resolvePpOptions,
  withRecording,
  type PublishingPointOptions,
} from '../origin/publishing-point-options.js';
import { PublishingPointError, type PublishingPoints } from '../origin/publishing-points.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import { renderServerManifest } from '../origin/smil.js';
import type { SettingsPort } from '../settings/settings-service.js';
import {
  archiveRangeBody,
  createChannelBody,
  patchChannelBody,
  recordingBody,
  saveRangeBody,
  purgeBody,
  settingsApply,
  settingsInput,
  signedUrlBody,
  testConnectionBody,
  updateOptionsBody,
  type ApplianceStatus,
  type ArchiveView,
  type ChannelView,
  type ControlEvent,
  type ControlOperations,
  type ControlResult,
  type EdgeView,
  type OperationName,
  type LibrarySpaceView,
  type PublishingPointView,
  type RecordingSettings,
  type SaveRangeBody,
  type SavedRangeView,
  type RequestOf,
  type ResponseOf,
  isOperationName,
  ControlFailure,
  createPushTargetBody,
  updatePushTargetBody,
} from '../contract/contract.js';
import type { ControlDispatcher } from './control-dispatcher.js';
import { slateHandlers, type SlateImagesPort } from './slate-api.js';
import { PushTargetUrlError, maskPushUrl } from '../push/push-target-url.js';
import { PushTargetLimitError, pushTargetView, type PushTargets } from '../push/push-targets.js';

export interface ControlServiceOptions {
  mode: 'standalone' | 'ecdn';
  partnerId: number;
  channels: ChannelStore;
  live: LiveChannels;
  index: SegmentIndex;
  pps: PublishingPoints;
  keys: SigningKeys;
  endpoints: PublicEndpoints;
  statistics: ChannelStatistics;
  settings: SettingsPort;
  status: () => Omit<ApplianceStatus, 'firstRun'>;
  /** The edge (`/kCache/`): its statistics and allow list, its node at Kaltura. */
  edge?: { view(): EdgeView };
  /** The slate's picture (slate-api.ts). */
  slate?: { images: SlateImagesPort; durationSeconds: number };
  /** Push targets: where channels' streams also go. */
  push: PushTargets;
  /** Alerts as webhooks (`--webhook-url`): the settings page's test button. */
  webhooks?: {
    enabled: boolean;
    test(): Promise<Array<{ url: string; ok: boolean; status?: number; error?: string }>>;
  };
  /** Subscribes to the appliance's control events (control-events.ts). */
  onEvent: (listener: (e: ControlEvent) => void) => () => void;
  /** The content monitor (main/monitor/): each channel's raised conditions and its monitor. */
  content?: ChannelContent;
  /** Options of a channel's publishing point made before its encoder ("Record this event"): the channel defaults. */
  ppDefaults?: PublishingPointOptions;
  /** The archive as an MP4 download or a library item (main/spaces/archive-library.ts). */
  library?: ArchiveLibraryPort;
  /** One-time tickets (30 s): a download link carries one instead of credentials. */
  tickets?: { issue(): { ticket: string; expiresIn: number } };
  log: Logger;
}

/** What the control API needs of the library: its spaces, and an archive range as one MP4 (downloaded or saved). */
export interface ArchiveLibraryPort {
  spaces(): LibrarySpaceView[];
  exportRange(pp: string, from: number, to: number): Promise<{ file: string; cleanup: () => void }>;
  saveRange(pp: string, body: SaveRangeBody): Promise<SavedRangeView>;
}

/** Where a download link points (the admin listener; the ticket stands in for credentials). */
export const ARCHIVE_DOWNLOAD_PATH = '/api/v1/channels/:entryId/archive/download';

type Handlers = { [K in OperationName]: (request: unknown) => Promise<ResponseOf<K>> };

/** Validates with a zod schema; a failure is a 400 naming each field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ControlFailure(
    400,
    'BAD_REQUEST',
    parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  );
}

const entryRef = z.object({ entryId: z.string().min(1).max(100) }).passthrough();
const noRequest = z.union([z.undefined(), z.null(), z.object({}).strict()]);

/** Splits `{ entryId, ...rest }`; the rest is the operation's body. */
function split(request: unknown): { entryId: string; body: Record<string, unknown> } {
  const { entryId, ...body } = validate(entryRef, request ?? {});
  return { entryId, body };
}

export class ControlService implements ControlDispatcher {
  readonly handlers: Handlers;

  constructor(private readonly o: ControlServiceOptions) {
    this.handlers = this.build();
  }

  onEvent(listener: (e: ControlEvent) => void): () => void {
    return this.o.onEvent(listener);
  }

  async dispatch<K extends OperationName>(
    operation: K,
    request: unknown,
  ): Promise<ControlResult<ResponseOf<K>>> {
    if (!isOperationName(operation))
      return {
        ok: false,
        error: { code: 'BAD_REQUEST', message: `unknown operation ${String(operation)}`, status: 400 },
      };
    try {
      const value = await (this.handlers[operation] as (r: unknown) => Promise<ResponseOf<K>>)(request);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: toErrorValue(err, this.o.log) };
    }
  }

  /** Typed call for in-process users (tests, the shell). */
  async call<K extends OperationName>(operation: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
    return (this.handlers[operation] as (r: unknown) => Promise<ResponseOf<K>>)(request);
  }

  /**
   * A channel's own secret (its stream token, its SRT passphrase) is made here only in standalone mode: in eCDN
   * mode it is the live entry's, at Kaltura (409 MODE_ECDN, saying where to change it).
   */
  private standaloneSecret(req: unknown, where: string): { entryId: string } {
    const { entryId } = split(req);
    this.view(entryId);
    if (this.o.mode === 'ecdn') throw new ControlFailure(409, 'MODE_ECDN', `in eCDN mode ${where}`);
    return { entryId };
  }

  private view(entryId: string): ChannelView {
    const c = this.o.channels.get(entryId);
    if (!c) throw new ControlFailure(404, 'CHANNEL_NOT_FOUND', `no channel with entry id ${entryId}`);
    return channelView(c, this.o.endpoints, this.o.index, this.o.live, this.o.content);
  }

  private publishingPoint(entryId: string) {
    this.view(entryId);
    const pp = this.o.pps.get(entryId);
    if (!pp)
      throw new ControlFailure(
        404,
        'PUBLISHING_POINT_NOT_FOUND',
        `channel ${entryId} has no publishing point yet: it is created on the first publish`,
      );
    return pp;
  }

  private ppView(entryId: string): PublishingPointView {
    const pp = this.publishingPoint(entryId);
    const active = this.o.pps.isActive(pp);
    const purged = this.o.pps.isPurged(pp);
    const r = resolvePpOptions(pp.options);
    return {
      name: `${pp.name}.isml`,
      state: pp.state,
      options: { ...pp.options },
      editable: !active && purged,
      ...(active
        ? { reason: `the publishing point is active (${pp.state}): stop the channel first` }
        : !purged
          ? { reason: 'the archive is not empty: purge it completely (keep last 0) first' }
          : {}),
      resolved: {
        dvrWindow: r.dvrWindow,
        archiving: r.archiving,
        archiveLength: r.archiveLength,
        fragmentDuration: r.fragmentDuration,
      },
      recording: {
        ...recordingOf(pp.options),
        canStart: !active,
        canStop: !active && purged,
        ...(active
          ? { reason: `the channel is live (${pp.state}): change recording when it is idle` }
          : !purged
            ? { reason: 'recording can be turned on or kept longer; to turn it off, purge the archive first' }
            : {}),
      },
    };
  }

  /**
   * The channel's publishing point, made now (idle) with the channel defaults and `options` when it has none yet
   * (standalone: in eCDN mode the entry's settings apply at its first publish).
   */
  private preparePublishingPoint(entryId: string, settings: RecordingSettings & { record: boolean }) {
    const existing = this.o.pps.get(entryId);
    if (existing) return existing;
    if (this.o.mode === 'ecdn')
      throw new ControlFailure(
        404,
        'PUBLISHING_POINT_NOT_FOUND',
        `channel ${entryId} has no publishing point yet: it is created on the first publish`,
      );
    const options = withRecording({ ...DEFAULT_PP_OPTIONS, ...this.o.ppDefaults }, settings);
    return this.o.pps.ensure(entryId, options, settings.record ? 'created, recording' : 'created');
  }

  /** An archive range of a channel as one MP4 (the download link's route); the caller streams it and cleans up. */
  async exportArchive(
    entryId: string,
    range: { from?: unknown; to?: unknown },
  ): Promise<{ file: string; cleanup: () => void; filename: string }> {
    const { from, to } = validate(archiveRangeBody, { from: range.from, to: range.to });
    const pp = this.publishingPoint(entryId);
    if (!this.o.library)
      throw new ControlFailure(409, 'LIBRARY_UNAVAILABLE', 'archive export is not available');
    const out = await this.o.library.exportRange(pp.name, Date.parse(from), Date.parse(to));
    const stamp = (iso: string) => new Date(iso).toISOString().slice(0, 19).replace(/:/g, '-');
    return { ...out, filename: `${entryId}_${stamp(from)}_${stamp(to)}.mp4` };
  }

  private archive(entryId: string): ArchiveView {
    const pp = this.publishingPoint(entryId);
    const tracks = this.o.index.tracks(pp.name);
    const r = resolvePpOptions(pp.options);
    const extent = this.o.pps.extent(pp, tracks);
    const dvrStart = extent ? Math.max(extent.start, extent.end - r.dvrWindow * 1000) : null;
    return {
      publishingPoint: `${pp.name}.isml`,
      state: pp.state,
      dvrWindow: {
        seconds: r.dvrWindow,
        start: dvrStart === null ? null : new Date(dvrStart).toISOString(),
        end: extent ? new Date(extent.end).toISOString() : null,
      },
      archiving: r.archiving,
      tracks: trackRanges(this.o.index, pp, tracks),
      now: new Date().toISOString(),
    };
  }

  private async control(entryId: string, action: 'start' | 'stop' | 'restart'): Promise<ChannelView> {
    this.view(entryId);
    if (action === 'stop') await this.o.live.stopChannel(entryId);
    else if (action === 'start') await this.o.live.startChannel(entryId);
    else await this.o.live.restartChannel(entryId);
    return this.view(entryId);
  }

  private build(): Handlers {
    const o = this.o;
    return {
      ...slateHandlers(o.slate),
      'edge.get': async (req) => {
        validate(noRequest, req);
        return (
          o.edge?.view() ?? {
            enabled: false,
            origins: [],
            cache: { bytes: 0, maxBytes: 0, objects: 0 },
            refused: 0,
            hosts: [],
            at: new Date().toISOString(),
          }
        );
      },
      'status.get': async (req) => {
        validate(noRequest, req);
        return { ...o.status(), firstRun: o.settings.firstRun() };
      },
      'channels.list': async (req) => {
        validate(noRequest, req);
        return {
          channels: o.channels.list().map((c) => channelView(c, o.endpoints, o.index, o.live, o.content)),
        };
      },
      'channels.get': async (req) => this.view(split(req).entryId),
      'channels.create': async (req) => {
        const body = validate(createChannelBody, req ?? {});
        if (o.mode === 'ecdn') {
          throw new ControlFailure(
            409,
            'MODE_ECDN',
            "in eCDN mode, channels are the partner's live entries: create them in Kaltura; they appear here on first publish",
          );
        }
        const c = o.channels.create(body.name, o.partnerId);
        o.channels.addEvent(c.entryId, 'info', 'CHANNEL_CREATED', `channel "${c.name}" created`);
        if (body.recording) {
          this.preparePublishingPoint(c.entryId, { record: true, ...body.recording });
          const options = o.pps.get(c.entryId)?.options;
          o.channels.addEvent(c.entryId, 'info', 'RECORDING_ON', recordingMessage(options));
        }
        return channelView(c, o.endpoints, o.index, o.live, o.content);
      },
      'channels.update': async (req) => {
        const { entryId, body } = split(req);
        this.view(entryId);
        const change = validate(patchChannelBody, body);
        o.channels.update(entryId, change);
        if (change.srtLatencyMs !== undefined) {
          o.channels.updateSrt(entryId, { latencyMs: change.srtLatencyMs });
          o.channels.addEvent(
            entryId,
            'info',
            'SRT_LATENCY_CHANGED',
            `SRT latency is now ${change.srtLatencyMs} ms (from the next SRT connection)`,
          );
        }
        if (change.access)
          o.channels.addEvent(entryId, 'info', 'ACCESS_CHANGED', `viewer access is now ${change.access}`);
        return this.view(entryId);
      },
      'channels.delete': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        await o.live.deleteEntry(entryId);
        await o.push.deleteChannel(entryId);
        o.channels.delete(entryId);
        return { deleted: entryId };
      },
      'channels.allowNow': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        o.live.forgetAuthentication(entryId);
        o.channels.addEvent(
          entryId,
          'info',
          'PUBLISH_ALLOWED',
          'blocks after failed publishes cleared by staff',
        );
        return this.view(entryId);
      },
      'ingest.refusals': async (req) => {
        validate(noRequest, req);
        return {
          refusals: o.live.refused.list().map((r) => ({
            ...r,
            firstAt: new Date(r.firstAt).toISOString(),
            lastAt: new Date(r.lastAt).toISOString(),
          })),
        };
      },
      'targets.list': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        return { targets: o.push.list(entryId).map(pushTargetView) };
      },
      'targets.create': async (req) => {
        const { entryId, body } = split(req);
        this.view(entryId);
        const b = validate(createPushTargetBody, body);
        let created;
        try {
          created = o.push.create(entryId, {
            url: b.url.trim(),
            name: b.name ?? maskPushUrl(b.url.trim()),
            enabled: b.enabled ?? true,
            ...(b.rendition ? { rendition: b.rendition } : {}),
          });
        } catch (err) {
          if (err instanceof PushTargetUrlError)
            throw new ControlFailure(400, 'BAD_REQUEST', `url: ${err.message}`);
          if (err instanceof PushTargetLimitError)
            throw new ControlFailure(409, 'TOO_MANY_TARGETS', err.message);
          throw err;
        }
        o.channels.addEvent(entryId, 'info', 'TARGET_ADDED', `push target ${created.name} added`);
        return pushTargetView(o.push.get(entryId, created.id) as NonNullable<ReturnType<PushTargets['get']>>);
      },
      'targets.update': async (req) => {
        const { entryId, body } = split(req);
        this.view(entryId);
        const { targetId, ...rest } = body as { targetId?: unknown };
        const change = validate(updatePushTargetBody, rest);
        if (typeof targetId !== 'string' || !(await o.push.update(entryId, targetId, change)))
          throw new ControlFailure(
            404,
            'TARGET_NOT_FOUND',
            `no push target ${String(targetId)} on ${entryId}`,
          );
        const t = o.push.get(entryId, targetId) as NonNullable<ReturnType<PushTargets['get']>>;
        if (change.enabled !== undefined)
          o.channels.addEvent(
            entryId,
            'info',
            change.enabled ? 'TARGET_ENABLED' : 'TARGET_DISABLED',
            `push target ${t.name} ${change.enabled ? 'enabled' : 'disabled'}`,
          );
        return pushTargetView(t);
      },
      'targets.delete': async (req) => {
        const { entryId, body } = split(req);
        this.view(entryId);
        const targetId = (body as { targetId?: unknown }).targetId;
        const t = typeof targetId === 'string' ? o.push.get(entryId, targetId) : undefined;
        if (!t || !(await o.push.delete(entryId, t.id)))
          throw new ControlFailure(
            404,
            'TARGET_NOT_FOUND',
            `no push target ${String(targetId)} on ${entryId}`,
          );
        o.channels.addEvent(entryId, 'info', 'TARGET_REMOVED', `push target ${t.name} removed`);
        return { deleted: t.id };
      },
      'channels.start': async (req) => this.control(split(req).entryId, 'start'),
      'channels.stop': async (req) => this.control(split(req).entryId, 'stop'),
      'channels.restart': async (req) => this.control(split(req).entryId, 'restart'),
      'channels.rotateSrtPassphrase': async (req) => {
        const { entryId } = this.standaloneSecret(
          req,
          "the SRT passphrase is the live entry's (srtPass): change it in Kaltura",
        );
        o.channels.updateSrt(entryId, { rotatePassphrase: true });
        o.channels.addEvent(
          entryId,
          'warn',
          'SRT_PASSPHRASE_ROTATED',
          'a new SRT passphrase was made: SRT encoders need it on their next connection (a live one keeps streaming)',
        );
        return this.view(entryId);
      },
      'channels.rotateToken': async (req) => {
        const { entryId } = this.standaloneSecret(
          req,
          "the stream token is the live entry's: regenerate it in Kaltura",
        );
        o.channels.rotateToken(entryId);
        o.live.forgetAuthentication(entryId);
        o.channels.addEvent(
          entryId,
          'warn',
          'TOKEN_ROTATED',
          'a new stream token was made: encoders need it on their next connection (a live encoder keeps streaming)',
        );
        return this.view(entryId);
      },
      'channels.events': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        return { events: o.channels.events(entryId).map(eventView) };
      },
      'channels.statistics': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        return { samples: o.statistics.samples(entryId) };
      },
      'channels.signedUrl': async (req) => {
        const { entryId, body } = split(req);
        const c = this.view(entryId);
        const { expiresIn, resourcePrefix, ipRange: rawRange } = validate(signedUrlBody, body);
        const ipRange = rawRange?.trim();
        if (ipRange !== undefined) {
          try {
            if (ipRange.includes(',')) throw new Error('give one address, CIDR or range');
            parseAllowList(ipRange);
          } catch (err) {
            throw new ControlFailure(400, 'BAD_REQUEST', `ipRange: ${(err as Error).message}`);
          }
        }
        const expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
        const key = o.keys.current();
        let query: string;
        try {
          query = signQuery(key, {
            scope: `${c.publishingPoint.path}/`,
            expiresAt,
            generation: o.channels.get(entryId)?.signedGeneration ?? 0,
            ...(ipRange !== undefined ? { ipRange } : {}),
          });
        } catch (err) {
          if (err instanceof SignedUrlError) throw new ControlFailure(400, 'BAD_REQUEST', err.message);
          throw err;
        }
        const originBase = c.playback.hls.slice(0, c.playback.hls.length - '.m3u8'.length);
        return {
          url: `${originBase}${resourcePrefix ? `${resourcePrefix}playlist` : ''}.m3u8?${query}`,
          dash: `${originBase}${resourcePrefix ? `${resourcePrefix}manifest` : ''}.mpd?${query}`,
          expiresAt: new Date(expiresAt * 1000).toISOString(),
          ...(ipRange !== undefined ? { ipRange } : {}),
          keyId: key.id,
        };
      },
      'channels.revokeSignedUrls': async (req) => {
        const { entryId } = split(req);
        this.view(entryId);
        o.channels.revokeSignedUrls(entryId);
        o.channels.addEvent(
          entryId,
          'warn',
          'SIGNED_URLS_REVOKED',
          'every signed link handed out so far stopped working: viewers need a new one',
        );
        return this.view(entryId);
      },
      'publishingPoints.get': async (req) => this.ppView(split(req).entryId),
      'publishingPoints.update': async (req) => {
        const { entryId, body } = split(req);
        const { options } = validate(updateOptionsBody, body);
        this.publishingPoint(entryId);
        try {
          // An idle channel need not be purged for a change that only adds recording.
          o.pps.update(entryId, renderServerManifest(options, []), { recordingWithoutPurge: true });
        } catch (err) {
          throw ppFailure(err);
        }
        o.channels.addEvent(entryId, 'info', 'OPTIONS_CHANGED', 'publishing point options changed');
        return this.ppView(entryId);
      },
      'publishingPoints.record': async (req) => {
        const { entryId, body } = split(req);
        this.view(entryId);
        const choice = validate(recordingBody, body);
        const before = this.preparePublishingPoint(entryId, choice).options;
        const after = withRecording(before, choice);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          if (!choice.record || !onlyAddsRecording(before, after)) {
            // Off, or kept for less time: as any other change, only when idle and purged.
            const v = this.ppView(entryId);
            if (!v.recording?.canStop)
              throw new ControlFailure(409, 'PUBLISHING_POINT_BUSY', v.recording?.reason ?? 'busy');
          }
          try {
            o.pps.update(entryId, renderServerManifest(after, []), { recordingWithoutPurge: true });
          } catch (err) {
            throw ppFailure(err);
          }
        }
        o.channels.addEvent(
          entryId,
          'info',
          choice.record ? 'RECORDING_ON' : 'RECORDING_OFF',
          choice.record ? recordingMessage(after) : 'recording off: only the DVR window is kept',
        );
        return this.ppView(entryId);
      },
      'publishingPoints.downloadLink': async (req) => {
        const { entryId, body } = split(req);
        const { from, to } = validate(archiveRangeBody, body);
        this.publishingPoint(entryId);
        if (!o.tickets || !o.library)
          throw new ControlFailure(409, 'LIBRARY_UNAVAILABLE', 'archive downloads are not available');
        const { ticket, expiresIn } = o.tickets.issue();
        const query = new URLSearchParams({ from, to, ticket });
        const admin = o.status().urls.admin.replace(/\/$/, '');
        const path = ARCHIVE_DOWNLOAD_PATH.replace(':entryId', encodeURIComponent(entryId));
        return { url: `${admin}${path}?${query.toString()}`, expiresIn };
      },
      'publishingPoints.saveToLibrary': async (req) => {
        const { entryId, body } = split(req);
        const b = validate(saveRangeBody, body);
        const pp = this.publishingPoint(entryId);
        if (!o.library) throw new ControlFailure(409, 'LIBRARY_UNAVAILABLE', 'the library is not available');
        const saved = await o.library.saveRange(pp.name, b);
        o.channels.addEvent(
          entryId,
          'info',
          'SAVED_TO_LIBRARY',
          `${b.from} – ${b.to} saved to the library as ${saved.spaceName}/${saved.name}`,
        );
        return saved;
      },
      'library.spaces': async (req) => {
        validate(noRequest, req);
        return { spaces: o.library?.spaces() ?? [] };
      },
      'publishingPoints.archive': async (req) => this.archive(split(req).entryId),
      'publishingPoints.purge': async (req) => {
        const { entryId, body } = split(req);
        const spec = validate(purgeBody, body);
        this.publishingPoint(entryId);
        let purged: number;
        try {
          purged = await o.pps.purge(
            entryId,
            'keepSeconds' in spec
              ? { kind: 'keep', seconds: spec.keepSeconds }
              : {
                  kind: 'range',
                  start: { kind: 'utc', ms: Date.parse(spec.start) },
                  end: { kind: 'utc', ms: Date.parse(spec.end) },
                },
          );
        } catch (err) {
          throw ppFailure(err);
        }
        return { purged };
      },
      'settings.get': async (req) => {
        validate(noRequest, req);
        return o.settings.view();
      },
      'settings.update': async (req) => {
        // `apply` says what to do when the change needs a restart while channels are live; the rest are settings.
        const { apply, ...input } = validate(
          z.object({ apply: settingsApply.optional() }).passthrough(),
          req ?? {},
        );
        return o.settings.update(validate(settingsInput, input), apply);
      },
      'alerts.testWebhooks': async (req) => {
        validate(noRequest, req);
        if (!o.webhooks?.enabled) return { configured: false, results: [] };
        return { configured: true, results: await o.webhooks.test() };
      },
      'settings.testConnection': async (req) =>
        o.settings.testConnection(validate(testConnectionBody, req ?? {})),
    } satisfies { [K in keyof ControlOperations]: (r: unknown) => Promise<ResponseOf<K>> };
  }
}

/** The event saying what recording keeps. */
function recordingMessage(options: PublishingPointOptions | undefined): string {
  const r = recordingOf(options ?? {});
  const keep = r.keepDays > 0 ? `kept ${r.keepDays} day${r.keepDays === 1 ? '' : 's'}` : 'kept until purged';
  return `recording on: DVR window ${r.dvrWindowMinutes} min, recordings ${keep}`;
}

function ppFailure(err: unknown): unknown {
  if (err instanceof PublishingPointError) {
    if (err.status === 403 || err.status === 409)
      return new ControlFailure(409, 'PUBLISHING_POINT_BUSY', err.message);
    if (err.status === 404) return new ControlFailure(404, 'PUBLISHING_POINT_NOT_FOUND', err.message);
    if (err.status === 400) return new ControlFailure(400, 'BAD_REQUEST', err.message);
    return new ControlFailure(err.status, 'INTERNAL', err.message);
  }
  return err;
}

/** An error as a value; unexpected ones are logged and reported without internals. */
export function toErrorValue(err: unknown, log: Logger): { code: string; message: string; status: number } {
  if (err instanceof ControlFailure) return { code: err.code, message: err.message, status: err.status };
  log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'control API error');
  return { code: 'INTERNAL', message: 'internal error; see the appliance log', status: 500 };
}
