/** Hash routes (the dashboard is a static page, loaded from disk in the window): #/, #/channels/<id>, #/settings, #/edge. */
import { useEffect, useState } from 'react';

export type Route =
  { page: 'channels' } | { page: 'channel'; entryId: string } | { page: 'settings' } | { page: 'edge' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const channel = /^\/channels\/([^/]+)$/.exec(path);
  if (channel?.[1]) return { page: 'channel', entryId: decodeURIComponent(channel[1]) };
  if (path === '/settings') return { page: 'settings' };
  if (path === '/edge') return { page: 'edge' };
  return { page: 'channels' };
}

export function hrefOf(route: Route): string {
  if (route.page === 'channel') return `#/channels/${encodeURIComponent(route.entryId)}`;
  if (route.page === 'settings') return '#/settings';
  if (route.page === 'edge') return '#/edge';
  return '#/';
}

export function navigate(route: Route): void {
  window.location.hash = hrefOf(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
