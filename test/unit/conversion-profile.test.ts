import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConversionProfileError,
  loadDefaultProfile,
  parseConversionProfile,
} from '../../main/transcode/conversion-profile.js';

/** The example from kaltura.md ("The conversion profile"), verbatim. */
const KALTURA_EXAMPLE = `<Root><Transcode>
 <Encodes>
  <Encode><Enable>true</Enable><Name>source</Name><StreamName>0_abcd1234_32</StreamName>
   <Video><Codec>PassThru</Codec></Video><Audio><Codec>PassThru</Codec></Audio></Encode>
  <Encode><Enable>true</Enable><Name>35</Name><StreamName>mp4:0_abcd1234_35</StreamName>
   <Video><Transcoder>default</Transcoder><GPUID>-1</GPUID>
    <FrameSize><FitMode>fit-height</FitMode><Height>360</Height></FrameSize>
    <Codec>H.264</Codec><Profile>main</Profile><Bitrate>900000</Bitrate>
    <KeyFrameInterval><FollowSource>true</FollowSource><Interval>60</Interval></KeyFrameInterval>
   </Video><Audio><Codec>AAC</Codec><Bitrate>96000</Bitrate></Audio></Encode>
 </Encodes>
 <Decode><Video><Deinterlace>false</Deinterlace></Video></Decode>
 <StreamNameGroups><StreamNameGroup><Name>all</Name><StreamName>\${SourceStreamName}_all</StreamName>
  <Members><Member><EncodeName>source</EncodeName></Member><Member><EncodeName>35</EncodeName></Member></Members>
 </StreamNameGroup></StreamNameGroups>
 <Properties><Property><Name>sourceStreamFrameRate</Name><Value>30</Value><Type>Double</Type></Property></Properties>
</Transcode></Root>`;

/** Wrap encodes in the Root/Transcode/Encodes skeleton. */
const profileXml = (encodes: string, rest = ''): string =>
  `<?xml version="1.0"?><Root><Transcode><Encodes>${encodes}</Encodes>${rest}</Transcode></Root>`;

const h264 = (
  name: string,
  frameSize: string,
  bitrate: number,
  audio = '<Codec>AAC</Codec><Bitrate>128000</Bitrate>',
) =>
  `<Encode><Enable>true</Enable><Name>${name}</Name><Video><Codec>H.264</Codec><Bitrate>${bitrate}</Bitrate>` +
  `<FrameSize>${frameSize}</FrameSize></Video><Audio>${audio}</Audio></Encode>`;

describe('parseConversionProfile', () => {
  it('reads the kaltura.md example', () => {
    const p = parseConversionProfile(KALTURA_EXAMPLE);
    expect(p.warnings).toEqual([]);
    expect(p.encodes).toEqual([
      {
        name: 'source',
        enabled: true,
        streamName: '0_abcd1234_32',
        video: { codec: 'PassThru' },
        audio: { codec: 'PassThru' },
        parameters: {},
      },
      {
        name: '35',
        enabled: true,
        streamName: 'mp4:0_abcd1234_35',
        video: {
          codec: 'H.264',
          bitrate: 900000,
          profile: 'main',
          frameSize: { fitMode: 'fit-height', height: 360 },
          keyFrameInterval: { followSource: true, interval: 60 },
        },
        audio: { codec: 'AAC', bitrate: 96000 },
        parameters: {},
      },
    ]);
    expect(p.groups).toEqual([{ name: 'all', members: ['source', '35'] }]);
  });

  it('reads a passthrough-only profile (a single Encode, a single Member)', () => {
    const p = parseConversionProfile(
      profileXml(
        '<Encode><Name>source</Name><Video><Codec>passthru</Codec></Video><Audio><Codec>PASSTHRU</Codec></Audio></Encode>',
        '<StreamNameGroups><StreamNameGroup><Name>all</Name><Members><Member><EncodeName>source</EncodeName></Member></Members></StreamNameGroup></StreamNameGroups>',
      ),
    );
    expect(p.encodes).toHaveLength(1);
    expect(p.encodes[0]).toMatchObject({
      name: 'source',
      enabled: true,
      video: { codec: 'PassThru' },
      audio: { codec: 'PassThru' },
    });
    expect(p.groups).toEqual([{ name: 'all', members: ['source'] }]);
    expect(p.warnings).toEqual([]);
  });

  it('reads a disabled audio track and a disabled encode', () => {
    const p = parseConversionProfile(
      profileXml(
        h264(
          'silent',
          '<FitMode>fit-height</FitMode><Height>480</Height>',
          1200000,
          '<Codec>Disable</Codec>',
        ) +
          '<Encode><Enable>false</Enable><Name>off</Name><Video><Codec>PassThru</Codec></Video><Audio><Codec>PassThru</Codec></Audio></Encode>',
      ),
    );
    expect(p.encodes[0]?.audio).toEqual({ codec: 'Disable' });
    expect(p.encodes[0]?.video.codec).toBe('H.264');
    expect(p.encodes[1]?.enabled).toBe(false);
  });

  it('reads several renditions, codec names in any spelling', () => {
    const p = parseConversionProfile(
      profileXml(
        h264('1080', '<FitMode>fit-height</FitMode><Height>1080</Height>', 4500000) +
          h264('720', '<FitMode>fit-height</FitMode><Height>720</Height>', 2500000).replace('H.264', 'h264') +
          h264('480', '<FitMode>fit-height</FitMode><Height>480</Height>', 1200000)
            .replace('H.264', 'h.264')
            .replace('AAC', 'aac'),
      ),
    );
    expect(p.encodes.map((e) => [e.name, e.video.codec, e.video.bitrate, e.video.frameSize?.height])).toEqual(
      [
        ['1080', 'H.264', 4500000, 1080],
        ['720', 'H.264', 2500000, 720],
        ['480', 'H.264', 1200000, 480],
      ],
    );
    expect(p.encodes.every((e) => e.audio.codec === 'AAC' && e.audio.bitrate === 128000)).toBe(true);
  });

  it('reads fit-width and fit-height frame sizes (FitMode lower-cased)', () => {
    const p = parseConversionProfile(
      profileXml(
        h264('w', '<FitMode>Fit-Width</FitMode><Width>854</Width>', 1000000) +
          h264('h', '<FitMode>FIT-HEIGHT</FitMode><Height>240</Height>', 400000) +
          h264('box', '<FitMode>letterbox</FitMode><Width>640</Width><Height>480</Height>', 900000),
      ),
    );
    expect(p.encodes.map((e) => e.video.frameSize)).toEqual([
      { fitMode: 'fit-width', width: 854 },
      { fitMode: 'fit-height', height: 240 },
      { fitMode: 'letterbox', width: 640, height: 480 },
    ]);
  });

  it('ignores unknown elements and keeps encoder parameters', () => {
    const p = parseConversionProfile(
      profileXml(
        `<Encode><Enable>true</Enable><Name>x</Name><Shiny>yes</Shiny>
          <Video><Codec>H.264</Codec><Bitrate>500000</Bitrate><Implementation>default</Implementation>
            <Parameters><Parameter><Name>x264.tune</Name><Value>film</Value><Type>String</Type></Parameter></Parameters>
          </Video><Audio><Codec>AAC</Codec><Surround><Mode>7.1</Mode></Surround></Audio></Encode>`,
        '<Unknown><Deep>1</Deep></Unknown><Properties><Property><Name>a</Name><Value>b</Value></Property></Properties>',
      ),
    );
    expect(p.warnings).toEqual([]);
    expect(p.encodes[0]).toEqual({
      name: 'x',
      enabled: true,
      video: { codec: 'H.264', bitrate: 500000 },
      audio: { codec: 'AAC' },
      parameters: { 'x264.tune': 'film' },
    });
  });

  it('disables a track with an unknown codec and warns, naming the encode', () => {
    const p = parseConversionProfile(
      profileXml(
        '<Encode><Name>hevc</Name><Video><Codec>H.265</Codec></Video><Audio><Codec>AAC</Codec></Audio></Encode>' +
          '<Encode><Name>web</Name><Video><Codec>VP8</Codec></Video><Audio><Codec>Vorbis</Codec></Audio></Encode>',
      ),
    );
    expect(p.encodes.map((e) => [e.video.codec, e.audio.codec])).toEqual([
      ['Disable', 'AAC'],
      ['Disable', 'Disable'],
    ]);
    expect(p.warnings).toHaveLength(3);
    expect(p.warnings[0]).toMatch(/"hevc".*H\.265/);
    expect(p.warnings[1]).toMatch(/"web".*VP8/);
    expect(p.warnings[2]).toMatch(/"web".*Vorbis/);
  });

  it('warns about values that are not numbers instead of failing', () => {
    const p = parseConversionProfile(
      profileXml(
        '<Encode><Name>v</Name><Video><Codec>H.264</Codec><Bitrate>${SourceVideoBitrate}</Bitrate></Video><Audio><Codec>AAC</Codec></Audio></Encode>',
      ),
    );
    expect(p.encodes[0]?.video.bitrate).toBeUndefined();
    expect(p.warnings.join('\n')).toMatch(/Bitrate.*SourceVideoBitrate/);
  });

  it('accepts a profile without encodes, with a warning', () => {
    for (const xml of [
      '<Root><Transcode/></Root>',
      '<Root><Transcode><Encodes></Encodes></Transcode></Root>',
    ]) {
      const p = parseConversionProfile(xml);
      expect(p.encodes).toEqual([]);
      expect(p.groups).toEqual([]);
      expect(p.warnings).toEqual(['conversion profile has no encodes']);
    }
  });

  it('rejects what is not transcoder XML', () => {
    for (const bad of [
      '',
      'not xml at all',
      '<Root><Transcode>',
      '<html><body/></html>',
      '<Root><Other/></Root>',
    ]) {
      let error: unknown;
      try {
        parseConversionProfile(bad);
      } catch (err) {
        error = err;
      }
      expect(error, bad).toBeInstanceOf(ConversionProfileError);
      expect((error as ConversionProfileError).code).toBe('CONVERSION_PROFILE_INVALID');
    }
    expect(() => parseConversionProfile('<Root><Transcode>')).toThrow(/not well-formed XML/);
    expect(() => parseConversionProfile('<html><body/></html>')).toThrow(/no <Root><Transcode>/);
  });
});

describe('loadDefaultProfile', () => {
  it('is source + 720 + 360 in one group', () => {
    const p = loadDefaultProfile();
    expect(p.warnings).toEqual([]);
    expect(p.encodes.map((e) => e.name)).toEqual(['source', '720', '360']);
    expect(p.encodes[0]).toMatchObject({ video: { codec: 'PassThru' }, audio: { codec: 'PassThru' } });
    for (const [i, height, bitrate] of [
      [1, 720, 2_500_000],
      [2, 360, 800_000],
    ] as const) {
      expect(p.encodes[i]).toMatchObject({
        enabled: true,
        video: {
          codec: 'H.264',
          profile: 'main',
          bitrate,
          frameSize: { fitMode: 'fit-height', height },
          keyFrameInterval: { followSource: true, interval: 60 },
        },
        audio: { codec: 'AAC', bitrate: 128000 },
      });
    }
    expect(p.groups).toEqual([{ name: 'all', members: ['source', '720', '360'] }]);
  });

  it('reads another file when given one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-'));
    try {
      const file = path.join(dir, 'custom.xml');
      fs.writeFileSync(file, KALTURA_EXAMPLE);
      expect(loadDefaultProfile(file).encodes.map((e) => e.name)).toEqual(['source', '35']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
