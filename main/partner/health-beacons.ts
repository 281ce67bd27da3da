/**
 * Ingest problems reported to Kaltura as health beacons, as the Kaltura media server does (beacon.add, an
 * ENTRY_BEACON on the entry, `eventType` `<serverIndex>_healthData`, the alert in `privateData`), so a wrong
 * token or a failing transcoder shows in Kaltura's own UI too. Never in a stream's way: fire and forget,
 * one beacon per entry, index and problem a minute, a bounded number a minute overall (an unauthenticated
 * peer choosing entry ids cannot make the appliance flood the service), and nothing secret in them (the
 * token an encoder sent is not repeated, unlike Wowza's module).
 */
import type { Logger } from '../lib/logger.js';

export interface IngestProblem {
  entryId: string;
  serverIndex: 0 | 1;
  /** Kaltura's alert type: the exception or rejection code (LIVE_STREAM_INVALID_TOKEN, INCORRECT_STREAM_NAME…). */
  code: string;
  /** What it concerns (the stream name, the failing rendition), never a token. */
  parameter?: string;
}

export interface BeaconClient {
  addBeacon(
    beacon: { objectId: string; eventType: string; privateData: string },
    opts?: { impersonate?: number },
  ): Promise<void>;
}

/** The media server's alert codes (Constants.AUTHENTICATION_ALERT_*); anything else is -1. */
const ALERT_CODES: Record<string, number> = {
  LIVE_STREAM_INVALID_TOKEN: 111,
  INCORRECT_STREAM_NAME: 112,
  ENTRY_ID_NOT_FOUND: 113,
  SERVICE_FORBIDDEN: 114,
  LIVE_STREAM_EXCEEDED_MAX_PASSTHRU: 115,
  LIVE_STREAM_EXCEEDED_MAX_TRANSCODED: 118,
};
/** Constants.AUTHENTICATION_ALERT_SEVERITY. */
const SEVERITY = 4;

/** Codes not worth a beacon: repeats of a reported refusal, or the service itself out of reach. */
const NOT_REPORTED = new Set(['CONNECTION_BLOCKED', 'SERVICE_UNREACHABLE', 'PARTNER_NOT_SERVED']);

export interface HealthBeaconOptions {
  log: Logger;
  /** Partner to impersonate for an entry (on-prem -5 mode). */
  impersonateFor?: (entryId: string) => number | undefined;
  /** One beacon per entry, index and code in this window (ms). */
  repeatMs?: number;
  /** Beacons at most, per minute, overall. */
  perMinute?: number;
  now?: () => number;
}

export class HealthBeacons {
  private readonly lastSent = new Map<string, number>();
  private window = { start: 0, count: 0 };
  private inFlight = 0;

  constructor(
    private readonly client: BeaconClient,
    private readonly o: HealthBeaconOptions,
  ) {}

  /** Reports a problem unless it was reported lately; never throws, never waits. Whether it was sent. */
  report(p: IngestProblem): boolean {
    if (NOT_REPORTED.has(p.code)) return false;
    const now = this.o.now?.() ?? Date.now();
    const repeatMs = this.o.repeatMs ?? 60_000;
    const key = `${p.entryId}/${p.serverIndex}/${p.code}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < repeatMs) return false;
    if (now - this.window.start >= 60_000) this.window = { start: now, count: 0 };
    if (this.window.count >= (this.o.perMinute ?? 30) || this.inFlight >= 8) return false;
    this.window.count++;
    this.lastSent.set(key, now);
    // Bounded: keys older than the repeat window are forgotten.
    if (this.lastSent.size > 1000)
      for (const [k, at] of this.lastSent) if (now - at >= repeatMs) this.lastSent.delete(k);
    const privateData = JSON.stringify({
      alerts: [
        {
          Arguments: {
            entryId: p.entryId,
            alertType: p.code,
            ...(p.parameter ? { parameter: p.parameter } : {}),
          },
          Time: now,
          Code: ALERT_CODES[p.code] ?? -1,
        },
      ],
      maxSeverity: SEVERITY,
    });
    const impersonate = this.o.impersonateFor?.(p.entryId);
    this.inFlight++;
    this.client
      .addBeacon(
        { objectId: p.entryId, eventType: `${p.serverIndex}_healthData`, privateData },
        impersonate !== undefined ? { impersonate } : undefined,
      )
      .then(
        () => this.o.log.debug({ entryId: p.entryId, code: p.code }, 'health beacon sent'),
        (err: Error) =>
          this.o.log.warn({ entryId: p.entryId, code: p.code, reason: err.message }, 'health beacon failed'),
      )
      .finally(() => this.inFlight--);
    return true;
  }
}
