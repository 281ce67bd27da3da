/** What an uploaded file may make ffprobe and ffmpeg do: read that local file, as a media format, and no more. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpaceFiles, SpaceMediaError } from '../../main/spaces/space-media.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-space-media-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const files = new SpaceFiles(dir, 'ffmpeg', 'ffprobe');

describe('uploads are probed as local media files only', () => {
  it('a playlist naming a URL or a concat list naming another file is refused, and nothing is fetched', async () => {
    let fetched = 0;
    const server = http.createServer((_req, res) => {
      fetched++;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const m3u8 = path.join(dir, 'evil.m3u8');
      fs.writeFileSync(
        m3u8,
        `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://127.0.0.1:${port}/secret.ts\n#EXT-X-ENDLIST\n`,
      );
      await expect(files.probe(m3u8)).rejects.toBeInstanceOf(SpaceMediaError);
      const concat = path.join(dir, 'evil.txt');
      fs.writeFileSync(concat, 'ffconcat version 1.0\nfile /etc/passwd\n');
      await expect(files.probe(concat)).rejects.toMatchObject({ status: 415 });
      expect(fetched).toBe(0);
    } finally {
      server.close();
    }
  });

  it('a real MP4 still passes', async () => {
    const mp4 = path.join(dir, 'ok.mp4');
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x90:rate=10',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-c:a',
      'aac',
      '-shortest',
      mp4,
    ]);
    expect(await files.probe(mp4)).toMatchObject({ kind: 'video' });
  });
});
