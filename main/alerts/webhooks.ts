/**
 * Alerts as webhooks: each alert's start and end is POSTed as JSON to every configured URL, signed with
 * HMAC-SHA256 over the body (`X-Ecdn-Signature: sha256=<hex>`, with the secret staff gave the receiver), retried
 * with backoff when the receiver is down or answers 5xx, never retried on 4xx. No flapping: at most one
 * notification per condition (and channel) per minute; what happens meanwhile is held, and only the latest is sent
 * when the minute is over, so the receiver always ends up with the current state.
 */
import crypto from 'node:crypto';
import type { Logger } from '../lib/logger.js';

export interface AlertNotification {
  /** e.g. `BLACK`, `SILENCE`, `INGEST_LOST`, `BACKUP_TOOK_OVER`. */
  condition: string;
  phase: 'start' | 'end';
  level: 'info' | 'warn' | 'error';
  /** The channel; absent for appliance-wide alerts (binding lost). */
  entryId?: string;
  message: string;
  /** ISO time it happened. */
  at: string;
}

export interface WebhookResult {
  url: string;
  ok: boolean;
  /** The receiver's status, or why there was none. */
  status?: number;
  error?: string;
}

export interface WebhooksOptions {
  urls: readonly string[];
  secret: string;
  log: Logger;
  /** Delays between attempts (ms); attempts = delays + 1. */
  backoffMs?: readonly number[];
  /** At most one notification per condition and channel in this long (ms). */
  flapMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

const DEFAULT_BACKOFF = [1000, 2000, 4000, 8000, 16000];
export const FLAP_MS = 60_000;
export const SIGNATURE_HEADER = 'X-Ecdn-Signature';

/** The signature header's value for `body`: what a receiver recomputes with the shared secret. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Webhook URLs are http(s) only; a clear error for anything else. */
export function checkWebhookUrl(text: string): void {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`webhook URL ${JSON.stringify(text.slice(0, 100))} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`webhook URL ${u.protocol}// is not http(s)`);
}

export class Webhooks {
  /** condition + channel -> when the last notification went, and one held since then. */
  private readonly sent = new Map<string, { at: number; held?: AlertNotification; timer?: NodeJS.Timeout }>();
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();
  private urls: readonly string[];

  constructor(private readonly o: WebhooksOptions) {
    for (const u of o.urls) checkWebhookUrl(u);
    this.urls = [...o.urls];
  }

  get enabled(): boolean {
    return this.urls.length > 0;
  }

  /**
   * New URLs from the settings page, applied at once (no restart): notifications from now on go to these; a
   * delivery already under way finishes with the URLs it started with. The signing secret stays as it was.
   */
  reconfigure(urls: readonly string[]): void {
    for (const u of urls) checkWebhookUrl(u);
    if (urls.length > 0 && !this.o.secret)
      throw new Error('webhooks are signed: give ECDN_WEBHOOK_SECRET (the receiver checks X-Ecdn-Signature)');
    this.urls = [...urls];
    this.o.log.info({ urls: this.urls.map(safeUrl) }, 'webhook URLs changed');
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Sends `n` now, or holds it until its condition's minute is over. */
  notify(n: AlertNotification): void {
    if (!this.enabled || this.closed) return;
    const key = `${n.condition} ${n.entryId ?? ''}`;
    const flapMs = this.o.flapMs ?? FLAP_MS;
    const last = this.sent.get(key);
    const now = this.now();
    if (last && now - last.at < flapMs) {
      last.held = n;
      last.timer ??= setTimeout(
        () => {
          last.timer = undefined;
          const held = last.held;
          last.held = undefined;
          if (held && !this.closed) {
            last.at = this.now();
            this.track(this.deliver(held));
          }
        },
        flapMs - (now - last.at),
      );
      last.timer.unref?.();
      return;
    }
    this.sent.set(key, { at: now });
    this.track(this.deliver(n));
  }

  /** The settings page's test button: one notification to every URL, no retries; each receiver's answer. */
  async test(): Promise<WebhookResult[]> {
    const n: AlertNotification = {
      condition: 'TEST',
      phase: 'start',
      level: 'info',
      message: 'a test notification from the eCDN appliance',
      at: new Date(this.now()).toISOString(),
    };
    return Promise.all(this.urls.map((url) => this.post(url, JSON.stringify(n))));
  }

  /** Stops retrying and holding (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sent.values()) if (s.timer) clearTimeout(s.timer);
    await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async deliver(n: AlertNotification): Promise<void> {
    const body = JSON.stringify(n);
    await Promise.all(
      this.urls.map(async (url) => {
        const delays = this.o.backoffMs ?? DEFAULT_BACKOFF;
        for (let attempt = 0; ; attempt++) {
          const r = await this.post(url, body);
          if (r.ok || (r.status !== undefined && r.status < 500)) {
            if (!r.ok)
              this.o.log.warn(
                { url: safeUrl(url), status: r.status, condition: n.condition },
                'webhook refused',
              );
            return;
          }
          const delay = delays[attempt];
          if (delay === undefined || this.closed) {
            this.o.log.warn(
              { url: safeUrl(url), condition: n.condition, err: r.error ?? r.status },
              'webhook gave up',
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
        }
      }),
    );
  }

  private async post(url: string, body: string): Promise<WebhookResult> {
    try {
      const r = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ecdn-appliance',
          [SIGNATURE_HEADER]: webhookSignature(this.o.secret, body),
        },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      await r.arrayBuffer().catch(() => undefined);
      return { url: safeUrl(url), ok: r.status >= 200 && r.status < 300, status: r.status };
    } catch (err) {
      return { url: safeUrl(url), ok: false, error: (err as Error).message };
    }
  }
}

/** A webhook URL as logged and shown: no query (it may hold a token). */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
