import { describe, expect, it } from 'vitest';
import { parseEdgeOrigins } from '../../main/edge/edge-origins.js';
import { rewriteHls, rewriteMpd, rewriteUri, type RewriteContext } from '../../main/edge/edge-rewrite.js';

const origins = parseEdgeOrigins('cdn.example.com, http://10.0.0.7:8080');
const ctx: RewriteContext = { origins, from: origins.find('cdn.example.com')!, app: 'kCache' };

describe('edge rewriting', () => {
  it('sends absolute URIs of listed origins through the edge, and leaves relative ones', () => {
    expect(rewriteUri('https://cdn.example.com/p/1/seg-1.ts?x=1', ctx)).toBe(
      '/kCache/cdn.example.com/p/1/seg-1.ts?x=1',
    );
    expect(rewriteUri('http://10.0.0.7:8080/e/e.isml/.m3u8', ctx)).toBe(
      '/kCache/10.0.0.7:8080/e/e.isml/.m3u8',
    );
    expect(rewriteUri('//cdn.example.com/a.ts', ctx)).toBe('/kCache/cdn.example.com/a.ts');
    // Root-relative URIs resolve against the edge's root: they go back to where the document came from.
    expect(rewriteUri('/p/2/seg.ts', ctx)).toBe('/kCache/cdn.example.com/p/2/seg.ts');
    expect(rewriteUri('seg-2.ts', ctx)).toBe('seg-2.ts');
    expect(rewriteUri('../x/seg-2.ts', ctx)).toBe('../x/seg-2.ts');
    // Not listed (or another scheme): left alone.
    expect(rewriteUri('https://other.example.com/a.ts', ctx)).toBe('https://other.example.com/a.ts');
    expect(rewriteUri('http://cdn.example.com/a.ts', ctx)).toBe('http://cdn.example.com/a.ts');
    expect(rewriteUri('https://10.0.0.7:8080/a.ts', ctx)).toBe('https://10.0.0.7:8080/a.ts');
  });

  it('keeps the app a document was asked under', () => {
    expect(rewriteUri('https://cdn.example.com/v.mp4', { ...ctx, app: 'kVOD' })).toBe(
      '/kVOD/cdn.example.com/v.mp4',
    );
  });

  it('rewrites URI lines and URI attributes of a playlist', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MAP:URI="https://cdn.example.com/init.mp4"',
      '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k"',
      '#EXTINF:2,',
      'https://cdn.example.com/s1.m4s',
      '#EXT-X-PART:DURATION=0.5,URI="p1.m4s"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/live/p2.m4s"',
      '#EXTINF:2,',
      's2.m4s',
      '',
    ].join('\n');
    expect(rewriteHls(playlist, ctx)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MAP:URI="/kCache/cdn.example.com/init.mp4"',
        '#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k"',
        '#EXTINF:2,',
        '/kCache/cdn.example.com/s1.m4s',
        '#EXT-X-PART:DURATION=0.5,URI="p1.m4s"',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/kCache/cdn.example.com/live/p2.m4s"',
        '#EXTINF:2,',
        's2.m4s',
        '',
      ].join('\n'),
    );
  });

  it('leaves a playlist of relative URIs byte for byte', () => {
    const p = '#EXTM3U\r\n#EXT-X-TARGETDURATION:2\r\n#EXTINF:2,\r\nseg-1.ts\r\n';
    expect(rewriteHls(p, ctx)).toBe(p);
  });

  it('rewrites BaseURL, Location and segment templates of an MPD', () => {
    const mpd = `<MPD type="dynamic"><Location>https://cdn.example.com/m.mpd</Location><Period><BaseURL>https://cdn.example.com/p/</BaseURL>
<SegmentTemplate media="https://cdn.example.com/v/$Number$.m4s?a=1&amp;b=2" initialization="init-$RepresentationID$.mp4"/>
<BaseURL>https://elsewhere.example.com/</BaseURL></Period></MPD>`;
    expect(rewriteMpd(mpd, ctx))
      .toBe(`<MPD type="dynamic"><Location>/kCache/cdn.example.com/m.mpd</Location><Period><BaseURL>/kCache/cdn.example.com/p/</BaseURL>
<SegmentTemplate media="/kCache/cdn.example.com/v/$Number$.m4s?a=1&amp;b=2" initialization="init-$RepresentationID$.mp4"/>
<BaseURL>https://elsewhere.example.com/</BaseURL></Period></MPD>`);
  });
});
