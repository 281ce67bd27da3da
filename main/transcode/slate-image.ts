/**
 * The slate's picture: the card bundled with the app (`resources/slate/default-slate.png`, "We'll be right back"),
 * or an image staff set, kept as a file in the data directory (`slate/slate.png` or `slate/slate.jpg`). An image is
 * checked before it is kept: PNG or JPEG by its bytes, at most 700 KB and 3840x2160, and decodable by ffmpeg.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_SLATE_IMAGE_BYTES, type SlateImageView } from '../contract/contract.js';

const MAX_WIDTH = 3840;
const MAX_HEIGHT = 2160;

export type SlateImageType = SlateImageView['type'];

/** An image that cannot be the slate, with why (a 400 for the API). */
export class SlateImageError extends Error {
  readonly code = 'SLATE_IMAGE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SlateImageError';
  }
}

/** PNG or JPEG by its first bytes; undefined for anything else. */
export function imageTypeOf(bytes: Buffer): SlateImageType | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

export class SlateImages {
  private readonly dir: string;

  constructor(
    dataDir: string,
    /** The bundled card. */
    private readonly defaultImage: string,
    private readonly ffmpegPath: string,
  ) {
    this.dir = path.join(dataDir, 'slate');
  }

  private file(type: SlateImageType): string {
    return path.join(this.dir, type === 'image/png' ? 'slate.png' : 'slate.jpg');
  }

  /** The image staff set, if any. */
  private custom(): { file: string; type: SlateImageType } | undefined {
    for (const type of ['image/png', 'image/jpeg'] as const) {
      const file = this.file(type);
      if (fs.existsSync(file)) return { file, type };
    }
    return undefined;
  }

  /**
   * The file the slate shows now. The bundled card is copied into the data directory first: in a packaged app it
   * lies inside the asar archive, which Node reads and ffmpeg cannot.
   */
  current(): string {
    const custom = this.custom();
    if (custom) return custom.file;
    const copy = path.join(this.dir, 'default-slate.png');
    if (!fs.existsSync(copy)) {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(`${copy}.tmp`, fs.readFileSync(this.defaultImage));
      fs.renameSync(`${copy}.tmp`, copy);
    }
    return copy;
  }

  view(): Omit<SlateImageView, 'durationSeconds'> {
    const custom = this.custom();
    const type = custom?.type ?? 'image/png';
    const bytes = fs.readFileSync(custom?.file ?? this.defaultImage);
    return { custom: custom !== undefined, type, dataUrl: `data:${type};base64,${bytes.toString('base64')}` };
  }

  /** Checks and keeps an image as the slate (replacing the one set before); the next slate shows it. */
  async set(bytes: Buffer): Promise<Omit<SlateImageView, 'durationSeconds'>> {
    if (bytes.length === 0) throw new SlateImageError('the image is empty');
    if (bytes.length > MAX_SLATE_IMAGE_BYTES)
      throw new SlateImageError(
        `the image is ${Math.ceil(bytes.length / 1024)} KB; at most ${MAX_SLATE_IMAGE_BYTES / 1024} KB`,
      );
    const type = imageTypeOf(bytes);
    if (!type) throw new SlateImageError('the slate must be a PNG or JPEG image');
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `upload-${process.pid}.tmp`);
    fs.writeFileSync(tmp, bytes);
    try {
      const { width, height } = await this.probe(tmp);
      if (width > MAX_WIDTH || height > MAX_HEIGHT)
        throw new SlateImageError(`the image is ${width}x${height}; at most ${MAX_WIDTH}x${MAX_HEIGHT}`);
      for (const t of ['image/png', 'image/jpeg'] as const) fs.rmSync(this.file(t), { force: true });
      fs.renameSync(tmp, this.file(type));
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return this.view();
  }

  /** Back to the bundled card. */
  reset(): Omit<SlateImageView, 'durationSeconds'> {
    for (const t of ['image/png', 'image/jpeg'] as const) fs.rmSync(this.file(t), { force: true });
    return this.view();
  }

  /** Decodes the image once with ffmpeg: its size, or why it cannot be decoded. */
  private probe(file: string): Promise<{ width: number; height: number }> {
    return new Promise((resolve, reject) => {
      execFile(
        this.ffmpegPath,
        ['-hide_banner', '-nostdin', '-v', 'info', '-i', file, '-frames:v', '1', '-f', 'null', '-'],
        { timeout: 15_000 },
        (err, _stdout, stderr) => {
          const size = /Video: .*?(\d{2,5})x(\d{2,5})/.exec(stderr);
          if (err || !size) {
            reject(new SlateImageError('the image cannot be decoded'));
            return;
          }
          resolve({ width: Number(size[1]), height: Number(size[2]) });
        },
      );
    });
  }
}
