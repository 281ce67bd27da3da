/**
 * The content monitor's ffmpeg log, read line by line: each decoded picture's time (the `metadata=mode=print`
 * frame line), and the detectors' edges with the media time they name: `lavfi.black_start=` / `lavfi.black_end=`
 * (blackdetect's frame metadata, printed as the frame passes), `lavfi.freezedetect.freeze_start` / `freeze_end`
 * (freezedetect's log and metadata), `silence_start:` / `silence_end:` (silencedetect's log). Everything else
 * (banners, warnings) is no signal.
 */

/** What the monitor watches for. */
export type ContentKind = 'black' | 'freeze' | 'silence';

export type ContentSignal =
  /** A decoded picture (a key frame) at media time `t` (seconds). */
  | { kind: 'frame'; t: number }
  /** A detector's edge: the condition began (`active`) or ended at media time `t`. */
  | { kind: ContentKind; active: boolean; t: number };

const NUMBER = '(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)';
const FRAME = new RegExp(`\\bframe:\\s*\\d+\\s+pts:\\s*-?\\d+\\s+pts_time:${NUMBER}`, 'i');
const BLACK = new RegExp(`\\blavfi\\.black_(start|end)=${NUMBER}`, 'i');
const FREEZE = new RegExp(`\\blavfi\\.freezedetect\\.freeze_(start|end)(?:=|:\\s*)${NUMBER}`, 'i');
const SILENCE = new RegExp(`\\bsilence_(start|end):\\s*${NUMBER}`, 'i');

/** The signal one log line carries, if any. */
export function parseSignal(line: string): ContentSignal | undefined {
  let m = BLACK.exec(line);
  if (m) return { kind: 'black', active: m[1] === 'start', t: Number(m[2]) };
  m = FREEZE.exec(line);
  if (m) return { kind: 'freeze', active: m[1] === 'start', t: Number(m[2]) };
  m = SILENCE.exec(line);
  if (m) return { kind: 'silence', active: m[1] === 'start', t: Number(m[2]) };
  m = FRAME.exec(line);
  if (m) return { kind: 'frame', t: Number(m[1]) };
  return undefined;
}

/** Splits ffmpeg's stderr into lines (chunks end anywhere) and hands on each line's signal. */
export class SignalReader {
  private rest = '';

  constructor(private readonly onSignal: (s: ContentSignal, line: string) => void) {}

  push(chunk: string): void {
    const lines = (this.rest + chunk).split(/\r?\n|\r/);
    this.rest = lines.pop() ?? '';
    // A line without an end this long is no log line of ours: dropped, so memory stays bounded.
    if (this.rest.length > 4096) this.rest = '';
    for (const line of lines) {
      const s = parseSignal(line);
      if (s && Number.isFinite(s.t)) this.onSignal(s, line);
    }
  }
}
