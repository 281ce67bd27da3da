/**
 * The media side of spaces: where files live, what ffprobe says they are (the type check never trusts the
 * extension), and HLS remuxed on demand (once per item, cached next to it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnsafePathError } from '../lib/safe-path.js';
import { spawnHelper } from '../lib/helper-processes.js';

/** Item names: letters, digits, `.`, `_`, `-`; not starting with a dot; at most 128 characters. */
export const ITEM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
export const SPACE_ID = /^s_[0-9a-z]{8}$/;

export class SpaceMediaError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class SpaceFiles {
  readonly root: string;
  private readonly remuxing = new Map<string, Promise<string>>();
  /** Bumped when an item is replaced or deleted: a remux of an older generation is thrown away. */
  private readonly generations = new Map<string, number>();

  constructor(
    dataDir: string,
    private readonly ffmpegPath: string,
    private readonly ffprobePath: string,
  ) {
    this.root = path.resolve(dataDir, 'spaces');
    fs.mkdirSync(this.root, { recursive: true });
  }

  spaceDir(id: string): string {
    if (!SPACE_ID.test(id)) throw new UnsafePathError(`bad space id ${JSON.stringify(id)}`);
    return path.join(this.root, id);
  }

  itemPath(id: string, name: string): string {
    if (!ITEM_NAME.test(name) || name.includes('..'))
      throw new UnsafePathError(`bad item name ${JSON.stringify(name)}`);
    return path.join(this.spaceDir(id), name);
  }

  /** The directory of an item's HLS rendition (under the space's hidden `.hls`). */
  hlsDir(id: string, name: string): string {
    this.itemPath(id, name);
    return path.join(this.spaceDir(id), '.hls', name);
  }

  /** Before an item is replaced or deleted: any remux of it is waited for and discarded, its HLS removed. */
  async forget(id: string, name: string): Promise<void> {
    const key = `${id}/${name}`;
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    await this.remuxing.get(key)?.catch(() => undefined);
    fs.rmSync(this.hlsDir(id, name), { recursive: true, force: true });
  }

  /** What a file is, by its content: a video (H.264) or audio (AAC/MP3) file players can take, or a 415. */
  async probe(
    file: string,
  ): Promise<{ kind: 'video' | 'audio'; format: string; duration: number | null; audioCodec?: string }> {
    const out = await run(this.ffprobePath, [
      '-v',
      'error',
      ...UPLOAD_INPUT_LIMITS,
      '-show_streams',
      '-show_format',
      '-of',
      'json',
      file,
    ]).catch((err: Error) => {
      throw new SpaceMediaError(415, `not an audio or video file (ffprobe: ${err.message.split('\n')[0]})`);
    });
    const info = JSON.parse(out) as {
      streams?: Array<{ codec_type?: string; codec_name?: string }>;
      format?: { format_name?: string; duration?: string };
    };
    const streams = info.streams ?? [];
    const format = info.format?.format_name ?? 'unknown';
    const video = streams.find((s) => s.codec_type === 'video' && s.codec_name === 'h264');
    const audio = streams.find(
      (s) => s.codec_type === 'audio' && (s.codec_name === 'aac' || s.codec_name === 'mp3'),
    );
    const container = /mp4|mov|m4a|mp3/.test(format);
    if (!container || (!video && !audio)) {
      throw new SpaceMediaError(
        415,
        `not a streamable file: ${format} with ${streams.map((s) => s.codec_name).join(', ') || 'no streams'} (H.264/AAC MP4 or MP3 needed)`,
      );
    }
    const duration = Number(info.format?.duration);
    return {
      kind: video ? 'video' : 'audio',
      format,
      duration: Number.isFinite(duration) ? duration : null,
      ...(audio?.codec_name ? { audioCodec: audio.codec_name } : {}),
    };
  }

  /** The item's HLS playlist path, remuxing it the first time (fMP4, 6 s segments; audio made AAC if it is not). */
  hls(id: string, name: string): Promise<string> {
    const dir = this.hlsDir(id, name);
    const playlist = path.join(dir, 'index.m3u8');
    if (fs.existsSync(playlist)) return Promise.resolve(playlist);
    const key = `${id}/${name}`;
    let job = this.remuxing.get(key);
    if (!job) {
      const generation = this.generations.get(key) ?? 0;
      const tmp = `${dir}.tmp-${process.pid}-${generation}`;
      job = (async () => {
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.mkdirSync(tmp, { recursive: true });
        const { audioCodec } = await this.probe(this.itemPath(id, name));
        const audio = audioCodec === 'aac' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '128k'];
        await run(this.ffmpegPath, [
          '-hide_banner',
          '-nostdin',
          '-loglevel',
          'error',
          ...UPLOAD_INPUT_LIMITS,
          '-i',
          this.itemPath(id, name),
          '-map',
          '0:v:0?',
          '-map',
          '0:a:0?',
          '-c:v',
          'copy',
          ...audio,
          '-f',
          'hls',
          '-hls_time',
          '6',
          '-hls_playlist_type',
          'vod',
          '-hls_segment_type',
          'fmp4',
          '-hls_fmp4_init_filename',
          'init.mp4',
          '-hls_segment_filename',
          path.join(tmp, 'seg%05d.m4s'),
          path.join(tmp, 'index.m3u8'),
        ]);
        if ((this.generations.get(key) ?? 0) !== generation) {
          throw new SpaceMediaError(503, 'the item changed while it was being prepared; ask again');
        }
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(tmp, dir);
        return playlist;
      })()
        .catch((err: unknown) => {
          fs.rmSync(tmp, { recursive: true, force: true });
          throw err;
        })
        .finally(() => this.remuxing.delete(key));
      this.remuxing.set(key, job);
    }
    return job;
  }
}

/**
 * An uploaded file is read as a local file of the formats spaces take, and nothing else: no network protocol, no
 * playlist or concat demuxer that could make ffmpeg open other files or URLs named inside it.
 */
const UPLOAD_INPUT_LIMITS = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  'mov,mp4,m4a,3gp,3g2,mj2,mp3',
];

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawnHelper(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.once('error', reject);
    p.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `exit ${code}`))));
  });
}
