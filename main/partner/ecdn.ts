/**
 * eCDN mode's parts, wired: the Kaltura client, the partner binding with its server node, media server
 * registration, health beacons, and the conversion profile per stream (with the fallback profile when the
 * service cannot say).
 */
import type { IngestMetadata } from '../ingest/ingest-protocol.js';
import type { Logger } from '../lib/logger.js';
import { parseConversionProfile, type ConversionProfile } from '../transcode/conversion-profile.js';
import { HealthBeacons } from './health-beacons.js';
import { KalturaPartner } from './kaltura-partner.js';
import { KalturaApiError, KalturaClient } from './kaltura/client.js';
import type { LiveEntry } from './partner.js';
import { MediaServerRegistration } from './registration.js';
import { ServerNodeReporter } from './server-node.js';

export interface EcdnConfig {
  serviceUrl: string;
  partnerId: number;
  adminSecret: string;
  timeoutMs: number;
  /** This appliance's media server node at Kaltura. */
  serverNodeName: string;
  serverNodeIntervalMs: number;
  /** On-prem -5: impersonate each entry's partner. */
  impersonation: boolean;
  authGraceMs: number;
  /** Used when the service cannot give a stream's conversion profile. */
  fallbackProfile: ConversionProfile;
}

export interface EcdnParts {
  partner: KalturaPartner;
  registration: MediaServerRegistration;
  beacons: HealthBeacons;
  profileFor: (entry: LiveEntry, streamName: string, metadata: IngestMetadata) => Promise<ConversionProfile>;
}

/**
 * Kaltura's extraParams, from the ingest's onMetaData, with the codec names Wowza sends (`H264`, `AAC`): the
 * service passes the source audio through only for `AAC`.
 */
export function extraParams(md: IngestMetadata): Record<string, string | number> {
  const codecString: Record<string, string> = { h264: 'H264', hevc: 'H265', aac: 'AAC', mp3: 'MP3' };
  const p: Record<string, string | number> = {};
  for (const k of ['width', 'height', 'videodatarate', 'audiodatarate', 'framerate'] as const)
    if (md[k] !== undefined) p[k] = md[k] as number;
  if (md.videocodecidstring)
    p.videocodecidstring = codecString[md.videocodecidstring] ?? md.videocodecidstring;
  if (md.audiocodecidstring)
    p.audiocodecidstring = codecString[md.audiocodecidstring] ?? md.audiocodecidstring;
  return p;
}

export function createEcdnParts(c: EcdnConfig, log: Logger): EcdnParts {
  const serverNodeName = c.serverNodeName;
  const client = new KalturaClient({
    serviceUrl: c.serviceUrl,
    partnerId: c.partnerId,
    adminSecret: c.adminSecret,
    timeoutMs: c.timeoutMs,
    serverNodeName,
  });
  const serverNode = new ServerNodeReporter(client, {
    name: serverNodeName,
    role: 'media',
    objectType: 'KalturaWowzaMediaServerNode',
    partnerId: c.partnerId,
    intervalMs: c.serverNodeIntervalMs,
    log: log.child({ part: 'server-node' }),
  });
  const partner = new KalturaPartner(client, {
    partnerId: c.partnerId,
    impersonation: c.impersonation,
    authGraceMs: c.authGraceMs,
    serverNode,
    log: log.child({ part: 'kaltura' }),
  });
  const beacons = new HealthBeacons(client, {
    impersonateFor: (entryId) => partner.impersonateFor(entryId),
    log: log.child({ part: 'beacons' }),
  });
  const registration = new MediaServerRegistration(client, {
    impersonateFor: (entryId) => partner.impersonateFor(entryId),
    log: log.child({ part: 'registration' }),
  });
  const fallback = c.fallbackProfile;
  const profileFor = async (
    _entry: LiveEntry,
    streamName: string,
    md: IngestMetadata,
  ): Promise<ConversionProfile> => {
    try {
      return parseConversionProfile(await client.conversionProfile(streamName, extraParams(md)));
    } catch (err) {
      // The service's code first (INGEST_NOT_FOUND_IN_CONVERSION_PROFILE…): what staff search Kaltura's docs for.
      const reason = err instanceof KalturaApiError ? `${err.code}: ${err.message}` : (err as Error).message;
      log.warn({ streamName, reason }, 'conversion profile unavailable; using the fallback profile');
      return {
        ...fallback,
        warnings: [
          ...fallback.warnings,
          `conversion profile for ${streamName} unavailable (${reason}); using the fallback profile`,
        ],
      };
    }
  };
  return { partner, registration, beacons, profileFor };
}
