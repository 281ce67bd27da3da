#!/usr/bin/env node
/**
 * Draws the app's icons as PNG files (no image tools needed): `node build/make-icons.mjs`.
 *   build/icon.png                           512x512, electron-builder derives .ico/.icns and Linux sizes from it
 *   resources/icons/app.png                  256x256, the window icon on Linux and Windows
 *   resources/icons/tray-{idle,live}.png     16x16 tray icons (and @2x, 32x32): grey ring idle, red dot live
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** RGBA pixels (size*size*4 bytes) to PNG bytes. */
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Renders a shape: `paint(x, y)` (coordinates in 0..1) returns [r, g, b, a] or null. 4x4 supersampling
 * smooths the edges.
 */
function render(size, paint) {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const c = paint((x + (sx + 0.5) / S) / size, (y + (sy + 0.5) / S) / size);
          if (!c) continue;
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      const i = (y * size + x) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
      }
      out[i + 3] = Math.round(a / (S * S));
    }
  return out;
}

const dist = (x, y, cx, cy) => Math.hypot(x - cx, y - cy);

/** The app icon: a blue rounded square with a white broadcast mark (a dot and two pairs of arcs). */
function appIcon(x, y) {
  const m = 0.06,
    rad = 0.2;
  const qx = Math.max(m + rad - x, 0, x - (1 - m - rad));
  const qy = Math.max(m + rad - y, 0, y - (1 - m - rad));
  if (Math.hypot(qx, qy) > rad) return null;
  const white = [255, 255, 255, 255];
  const d = dist(x, y, 0.5, 0.5);
  if (d < 0.09) return white;
  const angle = Math.abs(Math.atan2(y - 0.5, x - 0.5));
  const sideways = angle < Math.PI / 4 || angle > (3 * Math.PI) / 4;
  if (sideways && ((d > 0.17 && d < 0.22) || (d > 0.28 && d < 0.33))) return white;
  return [31, 78, 140, 255];
}

/** Tray, idle: a grey ring. */
function trayIdle(x, y) {
  const d = dist(x, y, 0.5, 0.5);
  return d > 0.28 && d < 0.42 ? [128, 128, 128, 255] : null;
}

/** Tray, live: a red dot in a white ring (visible on dark and light panels). */
function trayLive(x, y) {
  const d = dist(x, y, 0.5, 0.5);
  if (d < 0.36) return [220, 38, 38, 255];
  if (d < 0.46) return [255, 255, 255, 255];
  return null;
}

const outputs = [
  ['build/icon.png', 512, appIcon],
  ['resources/icons/app.png', 256, appIcon],
  ['resources/icons/tray-idle.png', 16, trayIdle],
  ['resources/icons/tray-idle@2x.png', 32, trayIdle],
  ['resources/icons/tray-live.png', 16, trayLive],
  ['resources/icons/tray-live@2x.png', 32, trayLive],
];
for (const [file, size, paint] of outputs) {
  const target = path.join(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, png(size, render(size, paint)));
  console.log(`${file} ${size}x${size}`);
}
