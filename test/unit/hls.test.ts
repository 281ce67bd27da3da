import { describe, expect, it } from 'vitest';
import { renderMasterPlaylist, renderMediaPlaylist, TrackNotFoundError } from '../../main/origin/hls.js';
import { presentation } from '../helpers/manifest-fixtures.js';

describe('renderMasterPlaylist', () => {
  it('lists the audio group and the video variants, highest bandwidth first', () => {
    expect(renderMasterPlaylist(presentation())).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_source",NAME="audio_source",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="tracks/audio_source.m3u8"',
        '',
        '#EXT-X-STREAM-INF:BANDWIDTH=3128000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,AUDIO="audio_source"',
        'tracks/video_source.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=928000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=30.000,AUDIO="audio_source"',
        'tracks/video_360.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('appends the urlSuffix to every URI', () => {
    const m3u8 = renderMasterPlaylist(presentation({ urlSuffix: '?sig=a%2Fb&exp=1' }));
    expect(m3u8).toContain('URI="tracks/audio_source.m3u8?sig=a%2Fb&exp=1"');
    const uris = m3u8.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(uris).toEqual([
      'tracks/video_source.m3u8?sig=a%2Fb&exp=1',
      'tracks/video_360.m3u8?sig=a%2Fb&exp=1',
    ]);
    expect(() => renderMasterPlaylist(presentation({ urlSuffix: '?a="b"' }))).toThrow(TypeError);
  });

  it('leaves out tracks without fragments, and videos whose audio has none yet', () => {
    const p = presentation();
    p.tracks.push({ ...p.tracks[1]!, trackName: 'video_1080', bandwidth: 6_000_000, fragments: [] });
    let m3u8 = renderMasterPlaylist(p);
    expect(m3u8).not.toContain('video_1080');
    expect(m3u8.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);

    p.tracks[2]!.fragments = [];
    m3u8 = renderMasterPlaylist(p);
    expect(m3u8).not.toContain('#EXT-X-STREAM-INF');
    expect(m3u8).not.toContain('#EXT-X-MEDIA');
  });

  it('pairs a video without audioTrack with the first audio track, and omits optional attributes', () => {
    const p = presentation();
    const v = p.tracks[0]!;
    delete v.audioTrack;
    delete v.frameRate;
    delete v.width;
    p.tracks = [v, p.tracks[2]!];
    const m3u8 = renderMasterPlaylist(p);
    expect(m3u8).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=928000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio_source"\ntracks/video_360.m3u8\n',
    );
  });

  it('renders a video-only presentation without an audio group', () => {
    const p = presentation();
    p.tracks = [p.tracks[1]!];
    const m3u8 = renderMasterPlaylist(p);
    expect(m3u8).not.toContain('#EXT-X-MEDIA');
    expect(m3u8).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f",FRAME-RATE=30.000\n',
    );
  });

  it('makes each audio track a variant of its own in an audio-only presentation', () => {
    const p = presentation({ urlSuffix: '?k=1' });
    const audio = p.tracks[2]!;
    p.tracks = [audio, { ...audio, trackName: 'audio_hi', bandwidth: 256_000, codecs: 'mp4a.40.5' }];
    expect(renderMasterPlaylist(p)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '',
        '#EXT-X-STREAM-INF:BANDWIDTH=256000,CODECS="mp4a.40.5"',
        'tracks/audio_hi.m3u8?k=1',
        '#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a.40.2"',
        'tracks/audio_source.m3u8?k=1',
        '',
      ].join('\n'),
    );
  });
});

describe('renderMediaPlaylist', () => {
  it('renders a live video playlist with a discontinuity after the gap', () => {
    expect(renderMediaPlaylist(presentation(), 'video_source')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:50',
        '#EXT-X-MAP:URI="video_source/init.mp4"',
        '#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:40.000Z',
        '#EXTINF:2.000,',
        'video_source/1536000.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:42.000Z',
        '#EXTINF:2.000,',
        'video_source/1566720.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:44.000Z',
        '#EXTINF:2.000,',
        'video_source/1597440.m4s',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:50.000Z',
        '#EXTINF:2.000,',
        'video_source/1689600.m4s',
        '#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:52.000Z',
        '#EXTINF:2.000,',
        'video_source/1720320.m4s',
        '',
      ].join('\n'),
    );
  });

  it('rounds the target duration up from the longest fragment and writes ms precision', () => {
    const m3u8 = renderMediaPlaylist(presentation(), 'audio_source');
    expect(m3u8).toContain('#EXT-X-TARGETDURATION:3\n'); // 96256 / 48000 = 2.005 s
    expect(m3u8.match(/^#EXTINF:.*$/gm)).toEqual([
      '#EXTINF:2.005,',
      '#EXTINF:2.005,',
      '#EXTINF:1.984,',
      '#EXTINF:2.005,',
      '#EXTINF:2.005,',
    ]);
    expect(m3u8).toContain('#EXT-X-PROGRAM-DATE-TIME:2024-01-15T12:01:44.010Z\n#EXTINF:1.984,');
    // Never below the nominal fragment duration.
    expect(renderMediaPlaylist(presentation({ fragmentDuration: 6 }), 'video_source')).toContain(
      '#EXT-X-TARGETDURATION:6\n',
    );
  });

  it('appends the urlSuffix to the map and every segment URI', () => {
    const m3u8 = renderMediaPlaylist(presentation({ urlSuffix: '?sig=xyz' }), 'video_360');
    expect(m3u8).toContain('#EXT-X-MAP:URI="video_360/init.mp4?sig=xyz"\n');
    const uris = m3u8.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(uris).toHaveLength(5);
    for (const uri of uris) expect(uri).toMatch(/^video_360\/\d+\.m4s\?sig=xyz$/);
  });

  it('ends a stopped presentation, and marks a subclip as VOD', () => {
    const stopped = renderMediaPlaylist(presentation({ live: false }), 'video_source');
    expect(stopped.endsWith('video_source/1720320.m4s\n#EXT-X-ENDLIST\n')).toBe(true);
    expect(stopped).not.toContain('PLAYLIST-TYPE');
    expect(renderMediaPlaylist(presentation(), 'video_source')).not.toContain('#EXT-X-ENDLIST');

    const vod = renderMediaPlaylist(presentation({ live: true, vod: true }), 'video_source');
    expect(vod).toContain('#EXT-X-MEDIA-SEQUENCE:50\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:');
    expect(vod.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
  });

  it('writes EXT-X-DISCONTINUITY-SEQUENCE only when the track counts it', () => {
    expect(renderMediaPlaylist(presentation(), 'video_source')).not.toContain('DISCONTINUITY-SEQUENCE');
    const p = presentation();
    p.tracks[1]!.discontinuitySequence = 3;
    expect(renderMediaPlaylist(p, 'video_source')).toContain(
      '#EXT-X-MEDIA-SEQUENCE:50\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n',
    );
  });

  it('renders an empty playlist for a track without fragments yet', () => {
    const p = presentation();
    p.tracks[0]!.fragments = [];
    expect(renderMediaPlaylist(p, 'video_360')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-MAP:URI="video_360/init.mp4"',
        '',
      ].join('\n'),
    );
  });

  it('throws TrackNotFoundError for an unknown track', () => {
    expect(() => renderMediaPlaylist(presentation(), 'video_999')).toThrow(TrackNotFoundError);
    try {
      renderMediaPlaylist(presentation(), 'nope');
    } catch (err) {
      expect(err).toMatchObject({ code: 'TRACK_NOT_FOUND', statusCode: 404, trackName: 'nope' });
    }
  });
});
