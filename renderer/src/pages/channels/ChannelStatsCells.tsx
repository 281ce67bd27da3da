import { formatBitrate } from '../../format.js';
import { useChannelSamples } from '../../state/statistics-context.js';
import { totalBitrate } from '../../state/statistics-store.js';

/** Viewers and total bitrate of a channel, from the latest `statistics` sample. */
export function ChannelStatsCells({ entryId }: { entryId: string }) {
  const samples = useChannelSamples(entryId);
  const last = samples[samples.length - 1];
  const previous = samples[samples.length - 2];
  const bitrate = last ? totalBitrate(last, previous) : null;
  return (
    <>
      <td className="num" data-testid="viewers">
        {last ? last.viewers : 0}
      </td>
      <td className="num" data-testid="bitrate">
        {formatBitrate(last && last.renditions.length > 0 ? bitrate : null)}
      </td>
    </>
  );
}
