import type { ChannelAlertView, ContentCondition } from '@contract';
import { useNow } from './useNow.js';

const TITLE: Record<ContentCondition, string> = {
  BLACK: 'Black picture',
  FROZEN: 'Frozen picture',
  SILENCE: 'Silence',
};

const FIX: Record<ContentCondition, string> = {
  BLACK: 'Viewers see a black screen: check the camera, the lens cap, the video mixer or the encoder input.',
  FROZEN: 'The picture has not changed: check that the source is not paused, or a still that stayed up.',
  SILENCE: 'Viewers hear nothing: check the microphones, the audio mixer and the encoder audio input.',
};

function lasting(since: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The channel page's banner while content conditions are raised (black, frozen, silence), each with how long. */
export function ChannelAlertsBanner({ alerts }: { alerts: ChannelAlertView[] }) {
  const now = useNow(1000);
  if (alerts.length === 0) return null;
  return (
    <div className="banner-slot" role="alert" data-testid="channel-alerts">
      {alerts.map((a) => (
        <div
          key={a.condition}
          className={`banner banner-${a.level === 'error' ? 'error' : 'warn'} channel-alert`}
          data-condition={a.condition}
        >
          <strong>{TITLE[a.condition]}</strong> for {lasting(a.since, now)}
          <span className="small">{FIX[a.condition]}</span>
        </div>
      ))}
    </div>
  );
}

/** The channel list's count of raised conditions (nothing when none). */
export function ChannelAlertsCount({ alerts }: { alerts: ChannelAlertView[] }) {
  if (alerts.length === 0) return null;
  const error = alerts.some((a) => a.level === 'error');
  const names = alerts.map((a) => TITLE[a.condition].toLowerCase()).join(', ');
  return (
    <span
      className={`badge badge-alert badge-alert-${error ? 'error' : 'warn'}`}
      data-testid="channel-alert-count"
      data-count={alerts.length}
      title={names}
    >
      {alerts.length} {alerts.length === 1 ? 'alert' : 'alerts'}
      <span className="visually-hidden">: {names}</span>
    </span>
  );
}
