import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  isoMicros,
  parseServerManifest,
  renderArchive,
  renderServerManifest,
  renderState,
  renderStatistics,
  SmilError,
  type ArchiveTrack,
  type PublishingPointState,
  type SmilTrack,
  type TrackStatistics,
} from '../../main/origin/smil.js';
import { SEED_DEFAULT_SMIL } from '../helpers/seed-smil.js';

// The seed's examples (002_4a6cb437b41434f0.txt), verbatim.

const SEED_STATE = `<?xml version="1.0" encoding="utf-8"?>
<!-- Created with Unified Streaming Platform(version=1.7.10) -->
<smil
  xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta
      name="updated"
      content="2015-05-06T01:57:12.313929Z">
    </meta>
    <meta
      name="state"
      content="started">
    </meta>
  </head>
</smil>`;

const SEED_STATISTICS = `<?xml version="1.0" encoding="utf-8"?>
<!-- Created with Unified Streaming Platform(version=1.7.10) -->
<smil
  xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta
      name="updated"
      content="2015-05-06T02:02:33.172661Z">
    </meta>
  </head>
  <body>
    <video
      src="round6-1.ismv"
      systemBitrate="412000">
      <param
        name="trackID"
        value="1"
        valueType="data">
      </param>
      <param
        name="trackName"
        value="video"
        valueType="data">
      </param>
      <param
        name="state"
        value="started"
        valueType="data">
      </param>
      <param
        name="updated"
        value="2015-05-06T02:02:32.074115Z"
        valueType="data">
      </param>
      <param
        name="duration"
        value="479402800000"
        valueType="data">
      </param>
    </video>

    ...

  </body>
</smil>`;

const SEED_ARCHIVE = `<?xml version="1.0" encoding="utf-8"?>
<!-- Created with Unified Streaming Platform(version=1.7.10) -->
<smil
  xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta
      name="updated"
      content="2015-05-06T02:05:31.909096Z">
    </meta>
  </head>
  <body>
    <audio
      src="round6-3.ismv"
      systemBitrate="128000">
      <param
        name="trackID"
        value="2"
        valueType="data">
      </param>
      <param
        name="trackName"
        value="audio"
        valueType="data">
      </param>
      <c start="1970-01-01T13:16:03.456145Z" end="1970-01-01T13:21:57.124535Z" />
    </audio>
    <video
      src="round6-1.ismv"
      systemBitrate="412000">
      <param
        name="trackID"
        value="1"
        valueType="data">
      </param>
      <param
        name="trackName"
        value="video"
        valueType="data">
      </param>
      <c start="1970-01-01T13:16:03.440000Z" end="1970-01-01T13:21:57.120000Z" />
    </video>

    ...

  </body>
</smil>`;

/** The seed's text as we write it: our generator comment, the `...` elision and its blank lines gone, a final newline. */
function asOurs(seed: string): string {
  return (
    seed
      .replace(
        '<!-- Created with Unified Streaming Platform(version=1.7.10) -->',
        '<!-- Created with eCDN Appliance -->',
      )
      .split('\n')
      .filter((line) => line.trim() !== '' && line.trim() !== '...')
      .join('\n') + '\n'
  );
}

/** ms since epoch of a UTC time with a fraction of µs. */
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number, micros = 0): number =>
  Date.UTC(y, mo - 1, d, h, mi, s) + micros / 1000;

const structure = new XMLParser({ preserveOrder: true, ignoreAttributes: false, trimValues: true });

function expectWellFormed(xml: string): void {
  expect(XMLValidator.validate(xml)).toBe(true);
}

function expectSmilError(xml: string, message?: RegExp): SmilError {
  try {
    parseServerManifest(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(SmilError);
    const err = e as SmilError;
    expect(err.code).toBe('SMIL_MALFORMED');
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected a SmilError for ${JSON.stringify(xml)}`);
}

const VIDEO: SmilTrack = {
  trackId: 1,
  trackName: 'video',
  kind: 'video',
  src: 'video_source.cmfv',
  systemBitrate: 2_500_000,
  timescale: 90000,
  codecs: 'avc1.64001f',
  width: 1280,
  height: 720,
};
const AUDIO: SmilTrack = {
  trackId: 2,
  trackName: 'audio',
  kind: 'audio',
  src: 'audio_source.cmfa',
  systemBitrate: 128_000,
  timescale: 48000,
  codecs: 'mp4a.40.2',
  sampleRate: 48000,
  channels: 2,
};

describe('isoMicros', () => {
  it('writes UTC with exactly 6 fractional digits', () => {
    expect(isoMicros(utc(2015, 5, 6, 1, 57, 12, 313929))).toBe('2015-05-06T01:57:12.313929Z');
    expect(isoMicros(utc(1970, 1, 1, 13, 16, 3, 440000))).toBe('1970-01-01T13:16:03.440000Z');
    expect(isoMicros(utc(1970, 1, 1, 13, 21, 57, 124535))).toBe('1970-01-01T13:21:57.124535Z');
    expect(isoMicros(Date.UTC(2024, 0, 15, 12))).toBe('2024-01-15T12:00:00.000000Z');
    expect(isoMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('rounds to the microsecond, carrying into the second', () => {
    expect(isoMicros(1000.0004)).toBe('1970-01-01T00:00:01.000000Z');
    expect(isoMicros(1999.9996)).toBe('1970-01-01T00:00:02.000000Z');
    expect(isoMicros(1.0006)).toBe('1970-01-01T00:00:00.001001Z');
  });

  it('handles times before the epoch', () => {
    expect(isoMicros(-0.5)).toBe('1969-12-31T23:59:59.999500Z');
    expect(isoMicros(-1000)).toBe('1969-12-31T23:59:59.000000Z');
  });

  it('refuses what is not a time', () => {
    expect(() => isoMicros(Number.NaN)).toThrow(RangeError);
    expect(() => isoMicros(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('parseServerManifest', () => {
  it("parses the seed's default SMIL into its 6 options, in order", () => {
    const { options, tracks } = parseServerManifest(SEED_DEFAULT_SMIL);
    expect(Object.entries(options)).toEqual([
      ['clientManifestRelativePath', 'test.ismc'],
      ['creator', 'Unified Streaming Platform (USP)'],
      ['lookahead_fragments', '2'],
      ['dvr_window_length', '30'],
      ['archive_segment_length', '0'],
      ['archiving', 'false'],
    ]);
    expect(tracks).toEqual([]);
  });

  it('tolerates a namespace prefix, no namespace, no head, no body', () => {
    const prefixed = parseServerManifest(
      '<s:smil xmlns:s="http://www.w3.org/2001/SMIL20/Language"><s:head><s:meta name="archiving" content="true"/></s:head></s:smil>',
    );
    expect(prefixed.options).toEqual({ archiving: 'true' });
    expect(parseServerManifest('<smil><head><meta name="a" content="1"/></head></smil>').options).toEqual({
      a: '1',
    });
    expect(parseServerManifest('<smil/>')).toEqual({ options: {}, tracks: [] });
    expect(parseServerManifest('\uFEFF<?xml version="1.0"?>\n<smil><body/></smil>')).toEqual({
      options: {},
      tracks: [],
    });
  });

  it('ignores a meta without a name, reads a missing content as empty, keeps unknown options', () => {
    const { options } = parseServerManifest(
      `<smil><head>
        <meta content="orphan"/>
        <meta name="" content="empty name"/>
        <meta name="archiving"/>
        <meta name="my_custom_option" content="x"/>
        <meta name="mpd.segment_template" content="time"/>
      </head></smil>`,
    );
    expect(Object.entries(options)).toEqual([
      ['archiving', ''],
      ['my_custom_option', 'x'],
      ['mpd.segment_template', 'time'],
    ]);
  });

  it('of duplicate names the last value wins, in the place of the first', () => {
    const { options } = parseServerManifest(
      `<smil><head>
        <meta name="dvr_window_length" content="30"/>
        <meta name="archiving" content="false"/>
        <meta name="dvr_window_length" content="60"/>
      </head></smil>`,
    );
    expect(Object.entries(options)).toEqual([
      ['dvr_window_length', '60'],
      ['archiving', 'false'],
    ]);
  });

  it('keeps an option named __proto__ as an ordinary option', () => {
    const { options } = parseServerManifest('<smil><head><meta name="__proto__" content="p"/></head></smil>');
    expect(Object.keys(options)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(options, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(options)).toBe(Object.prototype);
  });

  it('decodes entities and character references', () => {
    const { options } = parseServerManifest(
      '<smil><head><meta name="a&amp;b" content="&lt;&gt;&quot;&apos;&#38;&#x41;&#10;"/></head></smil>',
    );
    expect(options).toEqual({ 'a&b': '<>"\'&A\n' });
  });

  it('reads tracks from <body><switch>, also in the multi-line style', () => {
    const { tracks } = parseServerManifest(
      `<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <body>
    <switch>
      <video
        src="round6-1.ismv"
        systemBitrate="412000">
        <param
          name="trackID"
          value="3"
          valuetype="data" />
        <param name="FourCC" value="AVC1" valuetype="data" />
        <param name="MaxWidth" value="640" valuetype="data" />
        <param name="MaxHeight" value="360" valuetype="data" />
      </video>
      <audio src="round6-3.ismv" systemBitrate="128000">
        <param name="SamplingRate" value="44100" valueType="data"></param>
      </audio>
      <textstream src="subs.ismt" systemBitrate="1000" />
    </switch>
  </body>
</smil>`,
    );
    expect(tracks).toEqual([
      {
        trackId: 3,
        trackName: 'video',
        kind: 'video',
        src: 'round6-1.ismv',
        systemBitrate: 412000,
        width: 640,
        height: 360,
      },
      // No trackID: its position among the tracks; no trackName: its kind.
      {
        trackId: 2,
        trackName: 'audio',
        kind: 'audio',
        src: 'round6-3.ismv',
        systemBitrate: 128000,
        sampleRate: 44100,
      },
    ]);
  });

  it.each([
    ['an empty body', '', /empty/],
    ['only whitespace', '  \n ', /empty/],
    ['text', 'dvr_window_length=30', /not well-formed/],
    ['a missing end tag', '<smil><head></smil>', /not well-formed/],
    ['mismatched tags', '<smil><head></body></smil>', /not well-formed/],
    ['an unquoted attribute', '<smil><head><meta name=a content="1"/></head></smil>', /not well-formed/],
    ['a repeated attribute', '<smil><head><meta name="a" name="b"/></head></smil>', /not well-formed/],
    ['text after the root', '<smil></smil>garbage', /not well-formed/],
    ['a root that is not smil', '<html><head><meta name="a" content="1"/></head></html>', /<html>.*<smil>/],
    ['a root named like smil in another case', '<SMIL></SMIL>', /<SMIL>/],
    ['two roots', '<smil/><smil/>', /one root/],
    ['a DOCTYPE', '<!DOCTYPE smil><smil/>', /DOCTYPE/],
    [
      'entity declarations (billion laughs)',
      '<?xml version="1.0"?><!DOCTYPE smil [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><smil><head><meta name="x" content="&b;"/></head></smil>',
      /DOCTYPE/,
    ],
  ])('refuses %s', (_what, xml, message) => {
    expectSmilError(xml, message);
  });

  it.each([
    ['a track without src', '<video systemBitrate="1"/>', /no src/],
    ['a track without systemBitrate', '<video src="v.cmfv"/>', /systemBitrate/],
    ['a systemBitrate that is not a number', '<video src="v.cmfv" systemBitrate="fast"/>', /systemBitrate/],
    [
      'a trackID that is not a positive integer',
      '<audio src="a" systemBitrate="1"><param name="trackID" value="0"/></audio>',
      /trackID/,
    ],
    [
      'a width that is not an integer',
      '<video src="v" systemBitrate="1"><param name="MaxWidth" value="12.5"/></video>',
      /MaxWidth/,
    ],
    [
      'a duplicate trackID',
      '<video src="v" systemBitrate="1"><param name="trackID" value="1"/></video><audio src="a" systemBitrate="1"><param name="trackID" value="1"/></audio>',
      /trackID 1/,
    ],
  ])('refuses %s', (_what, switchContent, message) => {
    expectSmilError(`<smil><body><switch>${switchContent}</switch></body></smil>`, message);
  });
});

describe('renderServerManifest', () => {
  it("writes the seed's default SMIL exactly (with our generator comment)", () => {
    const { options } = parseServerManifest(SEED_DEFAULT_SMIL);
    expect(renderServerManifest(options, [])).toBe(asOurs(SEED_DEFAULT_SMIL));
  });

  it('lists the tracks in <switch> with their params', () => {
    const xml = renderServerManifest({ archiving: 'true' }, [VIDEO, AUDIO]);
    expectWellFormed(xml);
    expect(xml).toBe(`<?xml version="1.0" encoding="utf-8"?>
<!-- Created with eCDN Appliance -->
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta name="archiving" content="true" />
  </head>
  <body>
    <switch>
      <video src="video_source.cmfv" systemBitrate="2500000">
        <param name="trackID" value="1" valueType="data" />
        <param name="trackName" value="video" valueType="data" />
        <param name="timescale" value="90000" valueType="data" />
        <param name="FourCC" value="AVC1" valueType="data" />
        <param name="codecs" value="avc1.64001f" valueType="data" />
        <param name="MaxWidth" value="1280" valueType="data" />
        <param name="MaxHeight" value="720" valueType="data" />
      </video>
      <audio src="audio_source.cmfa" systemBitrate="128000">
        <param name="trackID" value="2" valueType="data" />
        <param name="trackName" value="audio" valueType="data" />
        <param name="timescale" value="48000" valueType="data" />
        <param name="FourCC" value="AACL" valueType="data" />
        <param name="codecs" value="mp4a.40.2" valueType="data" />
        <param name="SamplingRate" value="48000" valueType="data" />
        <param name="Channels" value="2" valueType="data" />
      </audio>
    </switch>
  </body>
</smil>
`);
  });

  it('leaves out the params that are not known', () => {
    const xml = renderServerManifest({}, [
      { trackId: 7, trackName: 'v', kind: 'video', src: 'v.cmfv', systemBitrate: 1000 },
    ]);
    expect(xml).toContain(
      [
        '      <video src="v.cmfv" systemBitrate="1000">',
        '        <param name="trackID" value="7" valueType="data" />',
        '        <param name="trackName" value="v" valueType="data" />',
        '        <param name="FourCC" value="AVC1" valueType="data" />',
        '      </video>',
      ].join('\n'),
    );
    expect(xml).toContain('  <head>\n  </head>\n');
  });

  it('round trips: what a GET returns can be PUT back', () => {
    const options = {
      clientManifestRelativePath: 'test.ismc',
      lookahead_fragments: '2',
      dvr_window_length: '30',
      archive_segment_length: '0',
      archiving: 'false',
      'hls.minimum_fragment_length': '48/25',
      unknown_vendor_option: 'kept',
    };
    const minimal: SmilTrack = {
      trackId: 5,
      trackName: 'audio_eng',
      kind: 'audio',
      src: 'a.cmfa',
      systemBitrate: 0,
    };
    const tracks = [VIDEO, AUDIO, minimal];
    const parsed = parseServerManifest(renderServerManifest(options, tracks));
    expect(Object.entries(parsed.options)).toEqual(Object.entries(options));
    expect(parsed.tracks).toEqual(tracks);
  });

  it('escapes attribute values, and they come back unchanged', () => {
    const options = {
      'we&ird<"name">': 'a & b < c > d " e \' f',
      multi: 'line one\nline two\ttab\r',
      control: 'bell\u0007',
    };
    const track: SmilTrack = { ...VIDEO, src: 'v"1"&<2>.cmfv', trackName: 'name "quoted" & <tagged>' };
    const xml = renderServerManifest(options, [track]);
    expectWellFormed(xml);
    expect(xml).toContain(
      '<meta name="we&amp;ird&lt;&quot;name&quot;&gt;" content="a &amp; b &lt; c &gt; d &quot; e \' f" />',
    );
    expect(xml).toContain('<meta name="multi" content="line one&#10;line two&#9;tab&#13;" />');
    expect(xml).toContain('src="v&quot;1&quot;&amp;&lt;2&gt;.cmfv"');
    const parsed = parseServerManifest(xml);
    expect(parsed.options).toEqual({ ...options, control: 'bell\uFFFD' });
    expect(parsed.tracks).toEqual([track]);
  });
});

describe('renderState', () => {
  it("writes the seed's /state example", () => {
    expect(renderState(utc(2015, 5, 6, 1, 57, 12, 313929), 'started')).toBe(asOurs(SEED_STATE));
  });

  it.each<PublishingPointState>(['idle', 'starting', 'started', 'stopping', 'stopped'])(
    'writes the state %s',
    (state) => {
      const xml = renderState(0, state);
      expectWellFormed(xml);
      const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
        smil: { head: { meta: Array<{ name: string; content: string }> } };
      };
      expect(doc.smil.head.meta).toEqual([
        { name: 'updated', content: '1970-01-01T00:00:00.000000Z' },
        { name: 'state', content: state },
      ]);
    },
  );
});

describe('renderStatistics', () => {
  const track: TrackStatistics = {
    trackId: 1,
    trackName: 'video',
    kind: 'video',
    src: 'round6-1.ismv',
    systemBitrate: 412000,
    timescale: 10_000_000,
    width: 640,
    state: 'started',
    updated: utc(2015, 5, 6, 2, 2, 32, 74115),
    duration: 47940.28,
  };

  it("writes the seed's /statistics example", () => {
    const xml = renderStatistics(utc(2015, 5, 6, 2, 2, 33, 172661), [track]);
    expectWellFormed(xml);
    expect(xml).toBe(asOurs(SEED_STATISTICS));
  });

  it('has the same structure as the seed, element by element', () => {
    const ours = structure.parse(renderStatistics(utc(2015, 5, 6, 2, 2, 33, 172661), [track])) as unknown;
    const seed = structure.parse(SEED_STATISTICS.replace(/\n\s*\.\.\.\n/, '\n')) as unknown;
    expect(ours).toEqual(seed);
  });

  it('writes one element per track, each with its kind', () => {
    const audio: TrackStatistics = {
      ...AUDIO,
      state: 'stopped',
      updated: utc(2015, 5, 6, 2, 2, 30),
      duration: 1.00000005,
    };
    const xml = renderStatistics(0, [track, audio]);
    expectWellFormed(xml);
    expect(xml).toContain(
      [
        '    </video>',
        '    <audio',
        '      src="audio_source.cmfa"',
        '      systemBitrate="128000">',
        '      <param',
        '        name="trackID"',
        '        value="2"',
        '        valueType="data">',
        '      </param>',
      ].join('\n'),
    );
    expect(xml).toContain('        value="stopped"\n');
    expect(xml).toContain('        value="10000001"\n'); // 1.00000005 s, rounded to 100 ns
  });

  it('has an empty body without tracks', () => {
    const xml = renderStatistics(0, []);
    expectWellFormed(xml);
    expect(xml).toContain('  </head>\n  <body>\n  </body>\n</smil>\n');
  });
});

describe('renderArchive', () => {
  const audio: ArchiveTrack = {
    trackId: 2,
    trackName: 'audio',
    kind: 'audio',
    src: 'round6-3.ismv',
    systemBitrate: 128000,
    ranges: [{ start: utc(1970, 1, 1, 13, 16, 3, 456145), end: utc(1970, 1, 1, 13, 21, 57, 124535) }],
  };
  const video: ArchiveTrack = {
    trackId: 1,
    trackName: 'video',
    kind: 'video',
    src: 'round6-1.ismv',
    systemBitrate: 412000,
    ranges: [{ start: utc(1970, 1, 1, 13, 16, 3, 440000), end: utc(1970, 1, 1, 13, 21, 57, 120000) }],
  };
  const updated = utc(2015, 5, 6, 2, 5, 31, 909096);

  it("writes the seed's /archive example", () => {
    const xml = renderArchive(updated, [audio, video]);
    expectWellFormed(xml);
    expect(xml).toBe(asOurs(SEED_ARCHIVE));
  });

  it('has the same structure as the seed, element by element', () => {
    const ours = structure.parse(renderArchive(updated, [audio, video])) as unknown;
    const seed = structure.parse(SEED_ARCHIVE.replace(/\n\s*\.\.\.\n/, '\n')) as unknown;
    expect(ours).toEqual(seed);
  });

  it('writes one <c> per continuous range', () => {
    const gap: ArchiveTrack = {
      ...video,
      ranges: [
        { start: 1000, end: 2000.5 },
        { start: 6000, end: 8000.000001 },
      ],
    };
    expect(renderArchive(0, [gap])).toContain(
      [
        '      <c start="1970-01-01T00:00:01.000000Z" end="1970-01-01T00:00:02.000500Z" />',
        '      <c start="1970-01-01T00:00:06.000000Z" end="1970-01-01T00:00:08.000000Z" />',
        '    </video>',
      ].join('\n'),
    );
  });

  it('leaves out a track without ranges', () => {
    const xml = renderArchive(updated, [audio, { ...video, ranges: [] }]);
    expectWellFormed(xml);
    expect(xml).toContain('<audio');
    expect(xml).not.toContain('<video');
  });

  it('is an empty body once fully purged', () => {
    const expected = `<?xml version="1.0" encoding="utf-8"?>
<!-- Created with eCDN Appliance -->
<smil
  xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta
      name="updated"
      content="2015-05-06T02:05:31.909096Z">
    </meta>
  </head>
  <body>
  </body>
</smil>
`;
    expect(renderArchive(updated, [])).toBe(expected);
    expect(
      renderArchive(updated, [
        { ...audio, ranges: [] },
        { ...video, ranges: [] },
      ]),
    ).toBe(expected);
  });

  it('escapes attribute values', () => {
    const xml = renderArchive(0, [{ ...video, src: 'a&b"<c>.cmfv', trackName: 'x"y' }]);
    expectWellFormed(xml);
    expect(xml).toContain('      src="a&amp;b&quot;&lt;c&gt;.cmfv"\n');
    expect(xml).toContain('        value="x&quot;y"\n');
  });
});
