/**
 * The encoder panel rendered as the dashboard renders it (React on the server, no browser): its tabs, the masked
 * token, "Regenerate token" in standalone mode, and in eCDN mode no button but where to regenerate it instead.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChannelView } from '../../main/contract/contract.js';

// The renderer is type-checked on its own (renderer/tsconfig.json, with the DOM): loaded here by path so that its
// React types stay out of the core's program.
type Element = unknown;
interface Renderer {
  createElement(type: unknown, props: unknown, ...children: Element[]): Element;
  renderToStaticMarkup(e: Element): string;
  BridgeContext: { Provider: unknown };
  EncoderPanel: unknown;
  splitUrl(url: string, other?: string): { head: string; tail: string };
}
const load = async (specifier: string): Promise<Record<string, unknown>> =>
  (await import(specifier)) as Record<string, unknown>;
const renderer = (file: string) => path.resolve(import.meta.dirname, '../../renderer/src', file);
let r: Renderer;
beforeAll(async () => {
  r = {
    ...(await load('react')),
    ...(await load('react-dom/server')),
    ...(await load(renderer('api/hooks.ts'))),
    ...(await load(renderer('pages/channel/EncoderPanel.tsx'))),
    ...(await load(renderer('pages/channel/url-parts.ts'))),
  } as unknown as Renderer;
});

const TOKEN = 'u8xyiymw1d9v93mb';
const url = (i: number) => `rtmp://10.0.0.5:1935/kLive/?p=1&e=0_dgizm5lt&i=${i}&t=${TOKEN}`;
const channel = {
  entryId: '0_dgizm5lt',
  partnerId: 1,
  name: 'Town hall',
  token: TOKEN,
  broadcastUrl: url(0),
  backupBroadcastUrl: url(1),
  streamName: '0_dgizm5lt_1',
  rtmp: { server: url(0), backupServer: url(1), streamKey: '0_dgizm5lt_1' },
  state: 'idle',
} as unknown as ChannelView;

const bridge = { invoke: async () => ({ ok: false }), onEvent: () => () => undefined };
const render = (ecdn: boolean) =>
  r.renderToStaticMarkup(
    r.createElement(
      r.BridgeContext.Provider,
      { value: bridge },
      r.createElement(r.EncoderPanel, { channel, ecdn }),
    ),
  );

describe('the encoder panel', () => {
  it('has a tab per kind of encoder, OBS first, and never shows the token until asked', () => {
    const html = render(false);
    const tabs = [...html.matchAll(/role="tab"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(tabs[0]).toBe('OBS');
    expect(tabs).toEqual(expect.arrayContaining(['OBS', 'ffmpeg', 'Other encoders']));
    expect(html).not.toContain(TOKEN);
    expect(html).toContain('t=••••••');
    expect(html).toContain('Regenerate token');
    expect(html).not.toContain('token-ecdn-note');
  });

  it("eCDN mode: no Regenerate button, and it says the token is the Kaltura entry's", () => {
    const html = render(true);
    expect(html).not.toContain('Regenerate token');
    expect(html).toMatch(/data-testid="token-ecdn-note"[^>]*>[^<]*Kaltura entry/);
    expect(html).not.toContain(TOKEN);
  });

  it('shows the part of a long URL that tells it apart', () => {
    expect(r.splitUrl(url(1), url(0))).toEqual({
      head: 'rtmp://10.0.0.5:1935/kLive/?p=1&e=0_dgizm5lt',
      tail: `&i=1&t=${TOKEN}`,
    });
    // Alone: from its query on.
    expect(r.splitUrl(`${url(0)}/0_dgizm5lt_1`).tail).toBe(`?p=1&e=0_dgizm5lt&i=0&t=${TOKEN}/0_dgizm5lt_1`);
    expect(r.splitUrl('rtmp://h/app/key').tail).toBe('/key');
  });
});
