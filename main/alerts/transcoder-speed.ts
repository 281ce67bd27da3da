/**
 * "Transcoder slower than real time": a rendition whose ffmpeg encodes below 0.9× real time for 10 s (five
 * statistics samples) will fall behind and stall players; recorded as the channel's `TRANSCODER_SLOW` event (an
 * alert), and `TRANSCODER_CAUGHT_UP` once it is back at real time for three samples. Catching up faster than real
 * time after a start or a restart is not a fault.
 */
import type { StatisticsSample } from '../contract/contract.js';

const SLOW = 0.9;
const RECOVERED = 0.97;
const SLOW_SAMPLES = 5;
const RECOVERED_SAMPLES = 3;

export type RecordAlertEvent = (
  entryId: string,
  level: 'info' | 'warn',
  code: string,
  message: string,
) => void;

export class TranscoderSpeedWatch {
  /** entryId + stream -> consecutive slow (positive) or recovered (negative) samples, and whether it is slow. */
  private readonly runs = new Map<string, { count: number; slow: boolean }>();

  constructor(private readonly record: RecordAlertEvent) {}

  /** The channels with a transcoder slower than real time now. */
  slow(): string[] {
    return [...new Set([...this.runs].filter(([, r]) => r.slow).map(([key]) => key.split(' ')[0] as string))];
  }

  sample(samples: readonly StatisticsSample[]): void {
    const seen = new Set<string>();
    for (const s of samples) {
      for (const r of s.renditions) {
        if (r.speed === null) continue;
        const key = `${s.entryId} ${r.streamName}`;
        seen.add(key);
        const run = this.runs.get(key) ?? { count: 0, slow: false };
        this.runs.set(key, run);
        if (!run.slow) {
          run.count = r.speed < SLOW ? run.count + 1 : 0;
          if (run.count >= SLOW_SAMPLES) {
            run.slow = true;
            run.count = 0;
            this.record(
              s.entryId,
              'warn',
              'TRANSCODER_SLOW',
              `the transcoder of ${r.streamName} runs at ${r.speed.toFixed(2)}× real time: players will stall; lower the conversion profile's renditions or give the machine more CPU`,
            );
          }
        } else {
          run.count = r.speed >= RECOVERED ? run.count + 1 : 0;
          if (run.count >= RECOVERED_SAMPLES) {
            run.slow = false;
            run.count = 0;
            this.record(
              s.entryId,
              'info',
              'TRANSCODER_CAUGHT_UP',
              `the transcoder of ${r.streamName} is back at real time`,
            );
          }
        }
      }
    }
    // A rendition that is gone (its channel stopped) starts afresh next time.
    for (const key of this.runs.keys()) if (!seen.has(key)) this.runs.delete(key);
  }
}
