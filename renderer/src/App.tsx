import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DashboardBridge } from './api/dashboard-bridge.js';
import { BridgeContext, useControlEvents, useResource, useResync } from './api/hooks.js';
import { clearToken, currentToken, writeToken } from './api/token.js';
import { BindingBanner } from './components/BindingBanner.js';
import { DiskBanner } from './components/DiskBanner.js';
import { ConnectionBanner } from './components/ConnectionBanner.js';
import { ErrorAlert } from './components/ErrorAlert.js';
import { Progress } from './components/Progress.js';
import { RestartingBanner } from './components/RestartingBanner.js';
import { ChannelPage } from './pages/channel/ChannelPage.js';
import { ChannelsPage } from './pages/channels/ChannelsPage.js';
import { EdgePage } from './pages/edge/EdgePage.js';
import { LoginPage } from './pages/LoginPage.js';
import { FirstRunDone } from './pages/settings/FirstRunDone.js';
import { FirstRunWizard } from './pages/settings/FirstRunWizard.js';
import { SettingsPage } from './pages/settings/SettingsPage.js';
import { hrefOf, navigate, useRoute, type Route } from './routing.js';
import { StatisticsContext } from './state/statistics-context.js';
import { StatisticsStore } from './state/statistics-store.js';

const SKIP_KEY = 'ecdn.wizardSkipped';

/** The dashboard: login (browsers), first-run wizard, then the pages. */
export function App({ bridge }: { bridge: DashboardBridge }) {
  const [authed, setAuthed] = useState(() => bridge.transport === 'ipc' || currentToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const signingIn = useRef(false);
  const checking = useRef(false);
  useEffect(
    () =>
      bridge.onUnauthorized(() => {
        if (signingIn.current || checking.current) return;
        // A request sent with the old token while this user changed it in the settings: the session goes on
        // when the token now kept answers (asked a moment later, once the new one is written).
        checking.current = true;
        setTimeout(() => {
          void bridge.invoke('status.get', undefined).then((r) => {
            checking.current = false;
            if (r.ok) return;
            clearToken();
            setAuthed(false);
            setNotice('The admin token was not accepted (it may have been changed). Sign in again.');
          });
        }, 1000);
      }),
    [bridge],
  );
  const signIn = async (token: string): Promise<string | null> => {
    signingIn.current = true;
    writeToken(token);
    const r = await bridge.invoke('status.get', undefined);
    signingIn.current = false;
    if (r.ok) {
      setNotice(null);
      setAuthed(true);
      bridge.reconnect();
      return null;
    }
    clearToken();
    return r.error.status === 401 ? 'This admin token was not accepted.' : r.error.message;
  };
  return (
    <BridgeContext.Provider value={bridge}>
      {authed ? (
        <Dashboard
          onSignOut={
            bridge.transport === 'ipc'
              ? undefined
              : () => {
                  clearToken();
                  setNotice('Signed out.');
                  setAuthed(false);
                }
          }
        />
      ) : (
        <LoginPage onSubmit={signIn} notice={notice} />
      )}
    </BridgeContext.Provider>
  );
}

function readSkipped(): boolean {
  try {
    return window.sessionStorage.getItem(SKIP_KEY) === '1';
  } catch {
    return false;
  }
}

/** `onSignOut`: in a browser, forgets the admin token (the desktop window has none to forget). */
function Dashboard({ onSignOut }: { onSignOut?: () => void }) {
  const resync = useResync();
  const [statusTick, setStatusTick] = useState(0);
  const status = useResource('status.get', undefined, `status-${resync}-${statusTick}`);
  const store = useMemo(() => new StatisticsStore(), []);
  const [skipped, setSkipped] = useState(readSkipped);
  // The core's start time when a restart was announced: a new one means the restart is over.
  const [restarting, setRestarting] = useState<{ adminUrl: string | null; startedAt: string | null } | null>(
    null,
  );
  const startedAt = useRef<string | null>(null);
  startedAt.current = status.data?.startedAt ?? startedAt.current;
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  // After the first-run wizard saved: its last screen (the appliance's URLs) until staff go on.
  const [welcome, setWelcome] = useState(false);

  useControlEvents((e) => {
    if (e.type === 'statistics') store.add(e.samples);
    else if (e.type === 'appliance.restarting')
      setRestarting((r) => ({ adminUrl: e.adminUrl, startedAt: r?.startedAt ?? startedAt.current }));
  });
  const onRestarting = useCallback(
    (adminUrl: string | null) =>
      setRestarting((r) => ({
        adminUrl: adminUrl ?? r?.adminUrl ?? null,
        startedAt: r?.startedAt ?? startedAt.current,
      })),
    [],
  );
  const back = useCallback(() => {
    setRestarting(null);
    setStatusTick((n) => n + 1);
  }, []);
  const routeKey = route.page === 'channel' ? `channel-${route.entryId}` : route.page;
  useEffect(() => {
    mainRef.current?.focus({ preventScroll: true });
  }, [routeKey]);

  const banner = restarting ? (
    <RestartingBanner adminUrl={restarting.adminUrl} startedAt={restarting.startedAt} onBack={back} />
  ) : null;

  if (!status.data) {
    return (
      <main className="page" id="main">
        <h1>eCDN Appliance</h1>
        <Progress text={status.loading ? 'Connecting to the appliance…' : null} />
        <ErrorAlert error={status.error} action="Could not reach the appliance" />
        {status.error ? (
          <button type="button" onClick={status.reload}>
            Try again
          </button>
        ) : null}
      </main>
    );
  }
  if (welcome) {
    return (
      <StatisticsContext.Provider value={store}>
        {banner}
        {restarting ? null : (
          <FirstRunDone
            urls={status.data.urls}
            onCreateChannel={() => {
              setWelcome(false);
              navigate({ page: 'channels' });
            }}
          />
        )}
      </StatisticsContext.Provider>
    );
  }
  if (status.data.firstRun && !skipped) {
    return (
      <StatisticsContext.Provider value={store}>
        {banner}
        <FirstRunWizard
          onRestarting={(adminUrl) => {
            setWelcome(true);
            onRestarting(adminUrl);
          }}
          onDone={() => {
            setWelcome(true);
            setStatusTick((n) => n + 1);
          }}
          onSkip={() => {
            try {
              window.sessionStorage.setItem(SKIP_KEY, '1');
            } catch {
              // Skipped for this page only.
            }
            setSkipped(true);
          }}
        />
      </StatisticsContext.Provider>
    );
  }
  return (
    <StatisticsContext.Provider value={store}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">eCDN Appliance</span>
        <nav aria-label="Main">
          <NavLink route={{ page: 'channels' }} current={route} label="Channels" />
          <NavLink route={{ page: 'edge' }} current={route} label="Edge" />
          <NavLink route={{ page: 'settings' }} current={route} label="Settings" />
        </nav>
        <span className="topbar-info muted small" data-testid="appliance-mode">
          {status.data.mode === 'ecdn' ? `eCDN · partner ${status.data.partnerId}` : 'standalone'}
          {status.data.binding ? ` · ${status.data.binding.state}` : ''} · v{status.data.version} · viewers:{' '}
          <a href={status.data.urls.origin} target="_blank" rel="noreferrer" data-testid="portal-address">
            {status.data.urls.origin.replace(/\/$/, '')}
          </a>
        </span>
        {onSignOut ? (
          <button type="button" className="link-button" onClick={onSignOut}>
            Sign out
          </button>
        ) : null}
      </header>
      <ConnectionBanner />
      <BindingBanner initial={status.data.binding} />
      <DiskBanner initial={status.data.disk} />
      {banner}
      <main id="main" ref={mainRef} tabIndex={-1} className="main">
        {route.page === 'channel' ? (
          <ChannelPage key={route.entryId} entryId={route.entryId} ecdn={status.data.mode === 'ecdn'} />
        ) : route.page === 'edge' ? (
          <EdgePage />
        ) : route.page === 'settings' ? (
          <SettingsPage onSaved={() => setStatusTick((n) => n + 1)} onRestarting={onRestarting} />
        ) : (
          <ChannelsPage status={status.data} />
        )}
      </main>
    </StatisticsContext.Provider>
  );
}

function NavLink({ route, current, label }: { route: Route; current: Route; label: string }) {
  const active = current.page === route.page || (route.page === 'channels' && current.page === 'channel');
  return (
    <a href={hrefOf(route)} aria-current={active ? 'page' : undefined} className="nav-link">
      {label}
    </a>
  );
}
