import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { MediaServerRegistration, type RegistrationClient } from '../../main/partner/registration.js';

class RecordingClient implements RegistrationClient {
  calls: string[] = [];
  failures = 0;
  async registerMediaServer(entryId: string, serverIndex: 0 | 1, status: 1 | 2): Promise<void> {
    this.calls.push(`register ${entryId}/${serverIndex} ${status}`);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('service unavailable');
    }
  }
  async unregisterMediaServer(entryId: string, serverIndex: 0 | 1): Promise<void> {
    this.calls.push(`unregister ${entryId}/${serverIndex}`);
  }
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const setup = () => {
  const client = new RecordingClient();
  const reg = new MediaServerRegistration(client, {
    keepAliveMs: 60_000,
    backoff: [2_000, 5_000],
    log: createLogger('silent'),
  });
  return { client, reg };
};

describe('MediaServerRegistration', () => {
  it('registers BROADCASTING, then PLAYABLE, keeps alive every 60 s, and unregisters after the last ingest', async () => {
    const { client, reg } = setup();
    reg.started('0_aaaaaaaa', 0, 's1');
    await vi.advanceTimersByTimeAsync(0);
    reg.playable('0_aaaaaaaa');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls).toEqual(['register 0_aaaaaaaa/0 2', 'register 0_aaaaaaaa/0 1']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.calls.slice(2)).toEqual(['register 0_aaaaaaaa/0 1']);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(client.calls.filter((c) => c === 'register 0_aaaaaaaa/0 1')).toHaveLength(4);
    // A second ingest of the same index keeps it registered when the first ends.
    reg.started('0_aaaaaaaa', 0, 's2');
    reg.ended('0_aaaaaaaa', 0, 's1');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls).not.toContain('unregister 0_aaaaaaaa/0');
    reg.ended('0_aaaaaaaa', 0, 's2');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls[client.calls.length - 1]).toBe('unregister 0_aaaaaaaa/0');
    const n = client.calls.length;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(client.calls).toHaveLength(n);
  });

  it('registers primary and backup separately', async () => {
    const { client, reg } = setup();
    reg.started('0_aaaaaaaa', 0, 'p');
    reg.started('0_aaaaaaaa', 1, 'b');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls).toEqual(['register 0_aaaaaaaa/0 2', 'register 0_aaaaaaaa/1 2']);
    reg.ended('0_aaaaaaaa', 0, 'p');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls).toContain('unregister 0_aaaaaaaa/0');
    expect(client.calls).not.toContain('unregister 0_aaaaaaaa/1');
  });

  it('retries a failed registration with backoff, then returns to the keep-alive', async () => {
    const { client, reg } = setup();
    client.failures = 2;
    reg.started('0_aaaaaaaa', 0, 's');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(client.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(client.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(client.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.calls).toHaveLength(4);
  });
});
