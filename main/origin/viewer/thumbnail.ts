/**
 * `thumbnail.jpg`: the publishing point's live thumbnail, as the content monitor (main/monitor/) last wrote it
 * (320 px wide, at most every 5 s while the channel is live; the last one stays after it stops). Behind viewer
 * access like every manifest (a secure channel's needs a signed URL); 404 until there is one.
 */
import fs from 'node:fs/promises';
import { notFound } from './replies.js';
import type { ViewerResource } from './viewer-deps.js';

/** The path of the resource under the publishing point (`/<entry>/<entry>.isml/thumbnail.jpg`). */
export const THUMBNAIL_RESOURCE = 'thumbnail.jpg';

export interface ThumbnailDeps {
  /** Where a publishing point's thumbnail is on disk (it may not exist). */
  thumbnailFile: (pp: string) => string;
}

export function thumbnailResource(o: ThumbnailDeps): ViewerResource {
  return (_req, reply, at) => {
    if (at.rest !== THUMBNAIL_RESOURCE) return undefined;
    return (async () => {
      let body: Buffer;
      let mtime: Date;
      try {
        // Written atomically (a rename): one open file is one whole picture, read with its own time.
        const fh = await fs.open(o.thumbnailFile(at.pp.name), 'r');
        try {
          mtime = (await fh.stat()).mtime;
          body = await fh.readFile();
        } finally {
          await fh.close();
        }
      } catch {
        return notFound(reply, 'no thumbnail yet');
      }
      return reply
        .type('image/jpeg')
        .header('Cache-Control', 'public, max-age=5')
        .header('Last-Modified', mtime.toUTCString())
        .send(body);
    })();
  };
}
