import { describe, expect, it } from 'vitest';
import { ProgressParser, type TranscodeProgress } from '../../main/transcode/transcode-progress.js';

describe('ProgressParser', () => {
  it('reads ffmpeg -progress blocks split across chunks', () => {
    const seen: TranscodeProgress[] = [];
    const p = new ProgressParser((x) => seen.push(x));
    p.push(
      'frame=150\nfps=29.97\nstream_0_0_q=23.0\nbitrate= 812.4kbits/s\ntotal_size=51234\nout_time_us=5000000\ndup_fra',
    );
    p.push(
      'mes=1\ndrop_frames=2\nspeed=1.5x\nprogress=continue\nframe=180\nfps=30\nbitrate=N/A\nspeed=N/A\nprogress=end\n',
    );
    expect(seen).toEqual([
      {
        frame: 150,
        fps: 29.97,
        bitrate: 812400,
        speed: 1.5,
        dropFrames: 2,
        dupFrames: 1,
        outTime: 5000,
        totalSize: 51234,
      },
      {
        frame: 180,
        fps: 30,
        bitrate: null,
        speed: null,
        dropFrames: 0,
        dupFrames: 0,
        outTime: 0,
        totalSize: 0,
      },
    ]);
  });
});
