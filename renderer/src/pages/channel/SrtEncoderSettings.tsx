import { useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/** The one ffmpeg command that publishes to the channel over SRT. */
export function ffmpegSrtCommand(channel: ChannelView): string | undefined {
  const srt = channel.srt;
  if (!srt) return undefined;
  const pass = srt.passphrase ? ` -passphrase '${srt.passphrase}'` : '';
  return `ffmpeg -re -i <your source> -c:v libx264 -preset veryfast -g 60 -keyint_min 60 -c:a aac -b:a 128k -f mpegts -srt_streamid '${srt.streamId}'${pass} '${srt.url}?latency=${srt.latencyMs * 1000}'`;
}

/** The URL OBS (and encoders that take one SRT URL) want: stream id, passphrase and latency in the query. */
export function obsSrtUrl(channel: ChannelView): string | undefined {
  const srt = channel.srt;
  if (!srt) return undefined;
  const q = new URLSearchParams({ streamid: srt.streamId });
  if (srt.passphrase) q.set('passphrase', srt.passphrase);
  q.set('latency', String(srt.latencyMs * 1000));
  return `${srt.url}?${q.toString()}`;
}

/**
 * The SRT tab: the URL, the stream id (Kaltura's, or the short one with the passphrase), the passphrase masked,
 * the latency, and one copyable ffmpeg command; a new passphrase on request (standalone).
 */
export function SrtEncoderSettings({
  channel,
  token,
  ecdn,
}: {
  channel: ChannelView;
  token: string | undefined;
  ecdn: boolean;
}) {
  const srt = channel.srt;
  const [asking, setAsking] = useState(false);
  const [latency, setLatency] = useState(String(srt?.latencyMs ?? 200));
  const rotate = useAction('channels.rotateSrtPassphrase');
  const update = useAction('channels.update');
  if (!srt) {
    return (
      <p className="muted" data-testid="srt-off">
        SRT is off on this appliance (started with <code>--srt-port 0</code>, or its port could not be used:
        see the status).
      </p>
    );
  }
  const passphrase = srt.passphrase;
  const command = ffmpegSrtCommand(channel) ?? '';
  const obs = obsSrtUrl(channel) ?? '';
  const secret = [token, passphrase].filter((s): s is string => Boolean(s));
  return (
    <div data-testid="srt-settings">
      <p className="muted">
        SRT (caller mode, MPEG-TS with H.264 and AAC) recovers what a lossy or long link drops. OBS: Settings
        → Stream → Custom, Server = the OBS URL below, Stream Key empty.
      </p>
      <CopyField label="SRT URL" value={srt.url} testId="srt-url" />
      <CopyField label="Stream ID" value={srt.streamId} testId="srt-stream-id" secret={token} />
      {passphrase ? (
        <CopyField label="Passphrase" value={passphrase} testId="srt-passphrase" secret={passphrase} />
      ) : (
        <p className="muted small">No passphrase: this channel takes unencrypted SRT.</p>
      )}
      <CopyField label="OBS URL" value={obs} testId="srt-obs-url" secret={secret} />
      <CopyField label="ffmpeg command (SRT)" value={command} testId="srt-ffmpeg-command" secret={secret} />
      <details className="encoder-backup">
        <summary>A backup encoder, or the short stream id</summary>
        <CopyField
          label="Backup stream ID"
          value={srt.backupStreamId}
          testId="srt-backup-stream-id"
          secret={token}
        />
        <p className="muted small">
          With the passphrase, the stream id can also be just <code>{srt.plainStreamId}</code>.
        </p>
      </details>
      <form
        className="inline-action"
        onSubmit={(e) => {
          e.preventDefault();
          void update.run({ entryId: channel.entryId, srtLatencyMs: Number(latency) });
        }}
      >
        <label>
          Latency (ms){' '}
          <input
            type="number"
            min={20}
            max={8000}
            step={10}
            value={latency}
            onChange={(e) => setLatency(e.target.value)}
            data-testid="srt-latency"
          />
        </label>
        <button type="submit" disabled={update.busy || Number(latency) === srt.latencyMs}>
          Save latency
        </button>
      </form>
      <ErrorAlert error={update.error} action="Could not change the latency" />
      {ecdn ? (
        <p className="muted small">
          The SRT passphrase is the Kaltura entry’s (srtPass): change it in Kaltura.
        </p>
      ) : (
        <div className="inline-action">
          <button type="button" disabled={rotate.busy} onClick={() => setAsking(true)}>
            New SRT passphrase
          </button>
          <ConfirmDialog
            open={asking}
            title="Make a new SRT passphrase?"
            confirmLabel="Make a new passphrase"
            onCancel={() => setAsking(false)}
            onConfirm={async () => {
              setAsking(false);
              await rotate.run({ entryId: channel.entryId });
            }}
          >
            <p>
              SRT encoders need the new passphrase on their next connection. An encoder that is live now keeps
              streaming.
            </p>
          </ConfirmDialog>
          <ErrorAlert error={rotate.error} action="Could not make a new passphrase" />
        </div>
      )}
    </div>
  );
}
