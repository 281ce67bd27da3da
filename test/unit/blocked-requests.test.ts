/** Held low-latency requests are bounded: past the cap the origin answers at once instead of holding more. */
import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { BlockedRequests } from '../../main/origin/viewer/blocked-requests.js';

const reply = () => ({ raw: new EventEmitter() }) as unknown as FastifyReply;

describe('BlockedRequests', () => {
  it('is full at its cap, frees a place when a request ends or its viewer leaves, and releases all on close', () => {
    const b = new BlockedRequests(2);
    const r1 = reply();
    const first = b.begin(r1);
    const second = b.begin(reply());
    expect(b.full).toBe(true);
    second.end();
    expect(b.full).toBe(false);
    const third = b.begin(reply());
    expect(b.full).toBe(true);
    b.releaseAll();
    expect(first.signal.aborted).toBe(true);
    expect(third.signal.aborted).toBe(true);
    // A viewer that leaves aborts its wait.
    const b2 = new BlockedRequests(5);
    const r = reply();
    const w = b2.begin(r);
    (r.raw as unknown as EventEmitter).emit('close');
    expect(w.signal.aborted).toBe(true);
  });
});
