import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { isoDuration, renderMpd } from '../../main/origin/dash.js';
import { fragments, presentation } from '../helpers/manifest-fixtures.js';

type Node = Record<string, unknown>;
interface Mpd {
  MPD: Node & {
    Period: Node & {
      AdaptationSet: (Node & { Representation: (Node & { SegmentTemplate: SegmentTemplate })[] })[];
    };
    UTCTiming: Node;
  };
}
interface SegmentTemplate extends Node {
  SegmentTimeline: { S: Node[] };
}

const ARRAYS = new Set(['MPD.Period.AdaptationSet', 'MPD.Period.AdaptationSet.Representation']);

function parse(xml: string): Mpd {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    isArray: (_name, jpath) => ARRAYS.has(String(jpath)) || String(jpath).endsWith('SegmentTimeline.S'),
  });
  return parser.parse(xml) as Mpd;
}

function representations(mpd: Mpd): Record<string, Node & { SegmentTemplate: SegmentTemplate }> {
  const out: Record<string, Node & { SegmentTemplate: SegmentTemplate }> = {};
  for (const set of mpd.MPD.Period.AdaptationSet) for (const r of set.Representation) out[String(r.id)] = r;
  return out;
}

const VIDEO_TIMELINE = [
  { t: '1536000', d: '30720', r: '2' },
  { t: '1689600', d: '30720', r: '1' },
];
const AUDIO_TIMELINE = [
  { t: '4800000', d: '96256', r: '1' },
  { d: '95232' },
  { t: '5279744', d: '96256', r: '1' },
];

describe('renderMpd (live)', () => {
  const mpd = parse(renderMpd(presentation()));

  it('is a dynamic isoff-live MPD with the live timing attributes', () => {
    expect(mpd.MPD).toMatchObject({
      xmlns: 'urn:mpeg:dash:schema:mpd:2011',
      profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
      type: 'dynamic',
      availabilityStartTime: '2024-01-15T12:00:00.000Z',
      publishTime: '2024-01-15T12:02:00.000Z',
      minimumUpdatePeriod: 'PT2S',
      timeShiftBufferDepth: 'PT30S',
      suggestedPresentationDelay: 'PT6S',
      maxSegmentDuration: 'PT2.005S',
      minBufferTime: 'PT4S',
    });
    expect(mpd.MPD).not.toHaveProperty('mediaPresentationDuration');
    expect(mpd.MPD.Period).toMatchObject({ id: '0', start: 'PT0S' });
    expect(mpd.MPD.UTCTiming).toEqual({
      schemeIdUri: 'urn:mpeg:dash:utc:direct:2014',
      value: '2024-01-15T12:02:00.000Z',
    });
  });

  it('takes minBufferTime and suggestedPresentationDelay from the view when given', () => {
    const m = parse(renderMpd(presentation({ minBufferTime: 1.5, suggestedPresentationDelay: 10 })));
    expect(m.MPD).toMatchObject({ minBufferTime: 'PT1.5S', suggestedPresentationDelay: 'PT10S' });
  });

  it('has one video AdaptationSet (highest bandwidth first) and one for the audio', () => {
    const [videoSet, audioSet, extra] = mpd.MPD.Period.AdaptationSet;
    expect(extra).toBeUndefined();
    expect(videoSet).toMatchObject({
      id: '0',
      contentType: 'video',
      mimeType: 'video/mp4',
      segmentAlignment: 'true',
      startWithSAP: '1',
      maxWidth: '1280',
      maxHeight: '720',
      maxFrameRate: '30',
    });
    expect(videoSet!.Representation.map((r) => r.id)).toEqual(['video_source', 'video_360']);
    expect(videoSet!.Representation[0]).toMatchObject({
      id: 'video_source',
      bandwidth: '3000000',
      codecs: 'avc1.64001f',
      width: '1280',
      height: '720',
      frameRate: '30',
    });
    expect(audioSet).toMatchObject({ id: '1', contentType: 'audio', mimeType: 'audio/mp4' });
    expect(audioSet!.Role).toEqual({ schemeIdUri: 'urn:mpeg:dash:role:2011', value: 'main' });
    expect(audioSet!.Representation[0]).toMatchObject({
      id: 'audio_source',
      bandwidth: '128000',
      codecs: 'mp4a.40.2',
      audioSamplingRate: '48000',
      AudioChannelConfiguration: {
        schemeIdUri: 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011',
        value: '2',
      },
    });
  });

  it('writes a $Time$ SegmentTemplate without presentationTimeOffset', () => {
    const reps = representations(mpd);
    expect(reps.video_source!.SegmentTemplate).toMatchObject({
      timescale: '15360',
      initialization: 'tracks/$RepresentationID$/init.mp4',
      media: 'tracks/$RepresentationID$/$Time$.m4s',
    });
    expect(reps.audio_source!.SegmentTemplate.timescale).toBe('48000');
    for (const r of Object.values(reps)) {
      expect(r.SegmentTemplate).not.toHaveProperty('presentationTimeOffset');
      expect(r.SegmentTemplate).not.toHaveProperty('startNumber');
    }
  });

  it('run-length encodes the SegmentTimeline, with an explicit t after a gap', () => {
    const reps = representations(mpd);
    expect(reps.video_source!.SegmentTemplate.SegmentTimeline.S).toEqual(VIDEO_TIMELINE);
    expect(reps.video_360!.SegmentTemplate.SegmentTimeline.S).toEqual(VIDEO_TIMELINE);
    expect(reps.audio_source!.SegmentTemplate.SegmentTimeline.S).toEqual(AUDIO_TIMELINE);
  });

  it('starts a new S at a discontinuity even without a gap in media time', () => {
    const p = presentation();
    const v = p.tracks[1]!;
    v.fragments = fragments(15360, 0, [30720, 30720, 30720]);
    v.fragments[2]!.discontinuity = true;
    const s = representations(parse(renderMpd(p))).video_source!.SegmentTemplate.SegmentTimeline.S;
    expect(s).toEqual([
      { t: '0', d: '30720', r: '1' },
      { t: '61440', d: '30720' },
    ]);
  });

  it('appends the urlSuffix to every template, escaped for XML and for $', () => {
    const xml = renderMpd(presentation({ urlSuffix: '?sig=a&b="c"&cost=$5' }));
    expect(xml).toContain('init.mp4?sig=a&amp;b=&quot;c&quot;&amp;cost=$$5"');
    const reps = representations(parse(xml));
    expect(Object.keys(reps)).toHaveLength(3);
    for (const r of Object.values(reps)) {
      expect(r.SegmentTemplate.initialization).toBe(
        'tracks/$RepresentationID$/init.mp4?sig=a&b="c"&cost=$$5',
      );
      expect(r.SegmentTemplate.media).toBe('tracks/$RepresentationID$/$Time$.m4s?sig=a&b="c"&cost=$$5');
    }
  });

  it('numbers segments from the first fragment sequence with number_timeline', () => {
    const reps = representations(parse(renderMpd(presentation({ segmentTemplate: 'number_timeline' }))));
    for (const r of Object.values(reps)) {
      expect(r.SegmentTemplate).toMatchObject({
        startNumber: '50',
        media: 'tracks/$RepresentationID$/n$Number$.m4s',
        initialization: 'tracks/$RepresentationID$/init.mp4',
      });
    }
    expect(reps.audio_source!.SegmentTemplate.SegmentTimeline.S).toEqual(AUDIO_TIMELINE);
  });

  it('leaves out tracks without fragments', () => {
    const p = presentation();
    p.tracks[0]!.fragments = [];
    expect(Object.keys(representations(parse(renderMpd(p))))).toEqual(['video_source', 'audio_source']);
  });
});

describe('renderMpd (static)', () => {
  it('becomes static when the encoder stopped: duration, and the first fragment at Period time 0', () => {
    const mpd = parse(renderMpd(presentation({ live: false })));
    expect(mpd.MPD).toMatchObject({
      type: 'static',
      publishTime: '2024-01-15T12:02:00.000Z',
      // From 100 s (first video and audio fragment) to 114.005 s (end of the last audio fragment).
      mediaPresentationDuration: 'PT14.005S',
      minBufferTime: 'PT4S',
    });
    for (const attr of ['availabilityStartTime', 'minimumUpdatePeriod', 'timeShiftBufferDepth']) {
      expect(mpd.MPD).not.toHaveProperty(attr);
    }
    const reps = representations(mpd);
    expect(reps.video_source!.SegmentTemplate.presentationTimeOffset).toBe('1536000');
    expect(reps.audio_source!.SegmentTemplate.presentationTimeOffset).toBe('4800000');
    expect(reps.video_source!.SegmentTemplate.SegmentTimeline.S).toEqual(VIDEO_TIMELINE);
    expect(mpd.MPD.UTCTiming).toMatchObject({ value: '2024-01-15T12:02:00.000Z' });
  });

  it('gives every track the same offset in seconds, so tracks that start later stay in sync', () => {
    const p = presentation({ vod: true });
    p.tracks[2]!.fragments = fragments(48000, 101 * 48000, [96000]); // audio starts 1 s after video
    const mpd = parse(renderMpd(p));
    expect(mpd.MPD.type).toBe('static');
    const reps = representations(mpd);
    expect(reps.video_source!.SegmentTemplate.presentationTimeOffset).toBe('1536000');
    expect(reps.audio_source!.SegmentTemplate.presentationTimeOffset).toBe('4800000');
    expect(mpd.MPD.mediaPresentationDuration).toBe('PT14S');
  });
});

describe('renderMpd (other shapes)', () => {
  it('renders an audio-only presentation', () => {
    const p = presentation();
    p.tracks = [p.tracks[2]!];
    const mpd = parse(renderMpd(p));
    expect(mpd.MPD.Period.AdaptationSet).toHaveLength(1);
    expect(mpd.MPD.Period.AdaptationSet[0]).toMatchObject({ id: '0', contentType: 'audio' });
    expect(mpd.MPD.Period.AdaptationSet[0]!.Representation[0]!.SegmentTemplate.SegmentTimeline.S).toEqual(
      AUDIO_TIMELINE,
    );
  });

  it('gives each audio track its own AdaptationSet, the one the top video plays with as main', () => {
    const p = presentation();
    const audio = p.tracks[2]!;
    p.tracks.splice(2, 0, { ...audio, trackName: 'audio_aac', codecs: 'mp4a.40.5', channels: undefined });
    const sets = parse(renderMpd(p)).MPD.Period.AdaptationSet;
    expect(
      sets.map((s) => [s.contentType, s.Representation[0]!.id, (s.Role as Node | undefined)?.value]),
    ).toEqual([
      ['video', 'video_source', undefined],
      ['audio', 'audio_aac', 'alternate'],
      ['audio', 'audio_source', 'main'],
    ]);
    expect(sets[1]!.Representation[0]).not.toHaveProperty('AudioChannelConfiguration');
  });

  it('writes fractional frame rates as fractions', () => {
    const p = presentation();
    p.tracks[1]!.frameRate = 29.97;
    p.tracks[0]!.frameRate = 12.5;
    const mpd = parse(renderMpd(p));
    const reps = representations(mpd);
    expect(reps.video_source!.frameRate).toBe('30000/1001');
    expect(reps.video_360!.frameRate).toBe('25/2');
    expect(mpd.MPD.Period.AdaptationSet[0]!.maxFrameRate).toBe('30000/1001');
  });

  it('renders an MPD with an empty Period when no track has a fragment yet', () => {
    const p = presentation({ live: false });
    for (const t of p.tracks) t.fragments = [];
    const xml = renderMpd(p);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('mediaPresentationDuration="PT0S"');
    expect(xml).not.toContain('AdaptationSet');
  });

  it('formats ISO 8601 durations', () => {
    expect([
      isoDuration(30),
      isoDuration(2),
      isoDuration(2.5),
      isoDuration(0.0213),
      isoDuration(3600),
    ]).toEqual(['PT30S', 'PT2S', 'PT2.5S', 'PT0.021S', 'PT3600S']);
  });
});
