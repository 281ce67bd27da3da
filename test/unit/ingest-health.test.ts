/** Ingest health measured from packets (an injected clock), and the warnings it gives in plain words. */
import { describe, expect, it } from 'vitest';
import { IngestHealthMeter, ingestWarnings } from '../../main/ingest/ingest-health.js';

const VIDEO = 9;
const AUDIO = 8;

/** `seconds` of 30 fps video (key frame every `gop` frames, 2 000 bytes a frame) and 48 kHz AAC, sent in real time. */
function feed(o: {
  seconds: number;
  gop: number;
  audio?: boolean;
  bFrames?: boolean;
  lagPerSecond?: number;
}) {
  let now = 1_000_000;
  const m = new IngestHealthMeter(() => now);
  for (let f = 0; f < o.seconds * 30; f++) {
    const dts = Math.round((f * 1000) / 30);
    now = 1_000_000 + dts + Math.round((dts / 1000) * (o.lagPerSecond ?? 0));
    m.packet({
      codec_type: VIDEO,
      flags: f % o.gop === 0 ? 3 : 4,
      dts,
      pts: o.bFrames && f % 3 === 1 ? dts + 66 : dts,
      size: 2000,
    });
    if (o.audio !== false && f % 2 === 0) m.packet({ codec_type: AUDIO, flags: 1, dts, pts: dts, size: 400 });
  }
  return m.snapshot();
}

describe('ingest health', () => {
  it('measures frame rate, bitrate and the key frame interval from the packets', () => {
    const h = feed({ seconds: 12, gop: 60 });
    expect(h.fps).toBeCloseTo(30, 0);
    // 30 × 2 000 + 15 × 400 bytes a second.
    expect(h.bitrate).toBeGreaterThan(500_000);
    expect(h.bitrate).toBeLessThan(560_000);
    expect(h.peakBitrate).toBeGreaterThanOrEqual(h.bitrate * 0.9);
    expect(h.keyFrameIntervalMs).toBe(2000);
    expect(h).toMatchObject({ bFrames: false, audio: true, video: true, timestampJumps: 0 });
    expect(ingestWarnings(h, 2)).toEqual([]);
  });

  it('says when key frames do not fit the fragments, audio is missing, or the encoder falls behind', () => {
    const h = feed({ seconds: 12, gop: 150, audio: false, bFrames: true, lagPerSecond: 600 });
    expect(h.keyFrameIntervalMs).toBe(5000);
    expect(h.bFrames).toBe(true);
    expect(h.driftMs).toBeGreaterThan(5000);
    const codes = ingestWarnings(h, 2).map((w) => w.code);
    expect(codes).toEqual(['KEYFRAME_INTERVAL', 'NO_AUDIO', 'DRIFTING']);
    expect(ingestWarnings(h, 2)[0]?.message).toContain("set the encoder's key frame interval to 2 s");
    // 1 s key frames fit 2 s fragments.
    expect(ingestWarnings(feed({ seconds: 4, gop: 30 }), 2)).toEqual([]);
  });

  it("says when the encoder's bitrate is far above the conversion profile's top rendition", () => {
    const h = feed({ seconds: 12, gop: 60 }); // about 0.53 Mb/s
    expect(ingestWarnings(h, 2, 100_000).map((w) => w.code)).toEqual(['BITRATE_HIGH']);
    expect(ingestWarnings(h, 2, 100_000)[0]?.message).toMatch(
      /sends 0\.5 Mb\/s, more than 3× the conversion profile's top rendition \(0\.1 Mb\/s\).*about 0\.2 Mb\/s/,
    );
    // Within 3× of the top rendition, or a profile without transcoded renditions: nothing to say.
    expect(ingestWarnings(h, 2, 500_000)).toEqual([]);
    expect(ingestWarnings(h, 2, undefined)).toEqual([]);
  });

  it('counts timestamps that go backwards or leap ahead', () => {
    let now = 0;
    const m = new IngestHealthMeter(() => now);
    for (const dts of [0, 33, 66, 10, 9000, 9033]) {
      now += 33;
      m.packet({ codec_type: VIDEO, flags: 4, dts, pts: dts, size: 100 });
    }
    expect(m.snapshot().timestampJumps).toBe(2);
    expect(ingestWarnings(m.snapshot(), 2).map((w) => w.code)).toContain('TIMESTAMP_JUMP');
  });
});
