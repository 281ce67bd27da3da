/** Parses ffmpeg's `-progress` output (key=value lines, a block per report ending in `progress=`). */

export interface TranscodeProgress {
  frame: number;
  fps: number;
  /** Output bitrate in bits per second, when ffmpeg knows it. */
  bitrate: number | null;
  /** Multiple of realtime. */
  speed: number | null;
  dropFrames: number;
  dupFrames: number;
  /** Output time in ms. */
  outTime: number;
  totalSize: number;
}

export class ProgressParser {
  private block: Record<string, string> = {};
  private rest = '';

  constructor(private readonly onProgress: (p: TranscodeProgress) => void) {}

  push(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.block[key] = value;
      if (key === 'progress') {
        this.onProgress(toProgress(this.block));
        this.block = {};
      }
    }
  }
}

function num(v: string | undefined): number {
  const n = Number.parseFloat(v ?? '');
  return Number.isFinite(n) ? n : 0;
}

export function toProgress(b: Record<string, string>): TranscodeProgress {
  const kbits = /^([\d.]+)kbits\/s$/.exec(b.bitrate ?? '');
  const speed = /^([\d.]+)x$/.exec(b.speed ?? '');
  return {
    frame: num(b.frame),
    fps: num(b.fps),
    bitrate: kbits ? Math.round(Number(kbits[1]) * 1000) : null,
    speed: speed ? Number(speed[1]) : null,
    dropFrames: num(b.drop_frames),
    dupFrames: num(b.dup_frames),
    outTime: Math.round(num(b.out_time_us ?? b.out_time_ms) / 1000),
    totalSize: num(b.total_size),
  };
}
