import { formatBitrate } from '../../format.js';
import { useChannelSamples } from '../../state/statistics-context.js';
import { totalBitrate } from '../../state/statistics-store.js';

/** Viewers (now, and the peak) and total bitrate of a channel, from the latest `statistics` sample. */
export function ChannelStatsCells({ entryId }: { entryId: string }) {
  const samples = useChannelSamples(entryId);
  const last = samples[samples.length - 1];
  const previous = samples[samples.length - 2];
  const outputs = last?.outputs ?? [];
  // The outputs as written (every rendition) when the core sends them, else what the transcoders report.
  const bitrate =
    outputs.length > 0
      ? outputs.reduce((n, o) => n + (o.bitrate ?? 0), 0) || null
      : last
        ? totalBitrate(last, previous)
        : null;
  return (
    <>
      <td className="num" data-testid="viewers" data-label="Viewers">
        {last ? last.viewers : 0}
        {last?.peakViewers ? <span className="muted small"> (peak {last.peakViewers})</span> : null}
      </td>
      <td className="num" data-testid="bitrate" data-label="Bitrate">
        {formatBitrate(last && last.renditions.length > 0 ? bitrate : null)}
      </td>
    </>
  );
}
