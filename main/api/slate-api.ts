/**
 * The slate's picture in the control API (`slate.get`, `slate.set`, `slate.reset`): the settings page shows it,
 * replaces it with an image (base64 PNG or JPEG, checked by transcode/slate-image.ts) or goes back to the bundled
 * card. The image is a file in the data directory, not a setting: it takes effect at the next slate, no restart.
 */
import {
  ControlFailure,
  slateImageBody,
  type ResponseOf,
  type SlateImageView,
  type SlateOperations,
} from '../contract/contract.js';

/** The slate's images, as the API needs them (transcode/slate-image.ts). */
export interface SlateImagesPort {
  view(): Omit<SlateImageView, 'durationSeconds'>;
  set(bytes: Buffer): Promise<Omit<SlateImageView, 'durationSeconds'>>;
  reset(): Omit<SlateImageView, 'durationSeconds'>;
}

export type SlateHandlers = { [K in keyof SlateOperations]: (request: unknown) => Promise<ResponseOf<K>> };

const noRequest = (request: unknown): void => {
  const empty =
    request === undefined ||
    request === null ||
    (typeof request === 'object' && Object.keys(request as object).length === 0);
  if (!empty) throw new ControlFailure(400, 'BAD_REQUEST', 'body: this operation takes no request');
};

/** The handlers; without images (a core built without them) every operation is a 404. */
export function slateHandlers(
  slate: { images: SlateImagesPort; durationSeconds: number } | undefined,
): SlateHandlers {
  const images = (): SlateImagesPort => {
    if (!slate) throw new ControlFailure(404, 'NOT_FOUND', 'this appliance has no slate');
    return slate.images;
  };
  const withDuration = (v: Omit<SlateImageView, 'durationSeconds'>): SlateImageView => ({
    ...v,
    durationSeconds: slate?.durationSeconds ?? 0,
  });
  return {
    'slate.get': async (request) => {
      noRequest(request);
      return withDuration(images().view());
    },
    'slate.set': async (request) => {
      const parsed = slateImageBody.safeParse(request ?? {});
      if (!parsed.success)
        throw new ControlFailure(
          400,
          'BAD_REQUEST',
          parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      const bytes = Buffer.from(parsed.data.image, 'base64');
      try {
        return withDuration(await images().set(bytes));
      } catch (err) {
        if ((err as { code?: string }).code === 'SLATE_IMAGE_INVALID')
          throw new ControlFailure(400, 'BAD_REQUEST', (err as Error).message);
        throw err;
      }
    },
    'slate.reset': async (request) => {
      noRequest(request);
      return withDuration(images().reset());
    },
  };
}
