import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupLength, minimumLength } from '../../main/origin/fragment-groups.js';
import {
  DEFAULT_PP_OPTIONS,
  PP_OPTION_SPECS,
  onlyAddsRecording,
  ppOptionSpec,
  recordingOf,
  resolvePpOptions,
  withRecording,
  type PublishingPointOptions,
} from '../../main/origin/publishing-point-options.js';
import { ppOptionsTable } from '../../main/origin/publishing-point-options-table.js';
import { parseServerManifest, renderServerManifest } from '../../main/origin/smil.js';

const spec = (name: string) => {
  const s = ppOptionSpec(name);
  if (!s) throw new Error(`no spec for ${name}`);
  return s;
};

describe('publishing point option specs', () => {
  it('name every option the origin acts on, once, each filling its own field', () => {
    const names = PP_OPTION_SPECS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(PP_OPTION_SPECS.map((s) => s.key)).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'dvr_window_length',
        'archiving',
        'archive_length',
        'archive_segment_length',
        'restart_on_encoder_reconnect',
        'fragment_duration',
        'lookahead_fragments',
        'hls.minimum_fragment_length',
        'mpd.minimum_fragment_length',
        'mpd.segment_template',
        'mpd.min_buffer_time',
        'mpd.suggested_presentation_delay',
        'hls.low_latency',
        'hls.part_duration',
      ]),
    );
    expect(Object.keys(resolvePpOptions({})).sort()).toEqual(PP_OPTION_SPECS.map((s) => s.key).sort());
  });

  it('are documented in the README, row for row', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain(ppOptionsTable());
    for (const s of PP_OPTION_SPECS) expect(ppOptionsTable()).toContain(`| \`${s.name}\` |`);
  });

  it('give the defaults of an empty record', () => {
    const o = resolvePpOptions({});
    for (const s of PP_OPTION_SPECS) {
      const expected = typeof s.default === 'object' ? undefined : s.default;
      expect(o[s.key], s.name).toBe(expected);
    }
    // Spelled out, so a changed default is a deliberate change here too.
    expect(o).toEqual({
      dvrWindow: 30,
      archiving: false,
      archiveLength: 0,
      archiveSegmentLength: 0,
      fragmentDuration: 2,
      restartOnEncoderReconnect: true,
      lookaheadFragments: 2,
      hlsMinimumFragmentLength: 0,
      mpdMinimumFragmentLength: 0,
      hlsLowLatency: false,
      hlsPartDuration: 0.5,
      mpdSegmentTemplate: 'time',
      mpdMinBufferTime: undefined,
      mpdSuggestedPresentationDelay: undefined,
    });
  });

  it('seed new publishing points with the specs’ defaults', () => {
    expect(DEFAULT_PP_OPTIONS).toEqual({
      lookahead_fragments: '2',
      dvr_window_length: '30',
      archive_segment_length: '0',
      archiving: 'false',
      restart_on_encoder_reconnect: 'true',
      fragment_duration: '2',
    });
    for (const [name, value] of Object.entries(DEFAULT_PP_OPTIONS))
      expect(value).toBe(String(spec(name).default));
  });
});

describe('resolvePpOptions', () => {
  it('clamps into the specs’ ranges', () => {
    const fd = spec('fragment_duration');
    expect(fd).toMatchObject({ type: 'number', min: 0.5, max: 20, outOfRange: 'clamp' });
    expect(resolvePpOptions({ fragment_duration: '0.1' }).fragmentDuration).toBe(0.5);
    expect(resolvePpOptions({ fragment_duration: '60' }).fragmentDuration).toBe(20);
    expect(resolvePpOptions({ fragment_duration: '4' }).fragmentDuration).toBe(4);
    expect(resolvePpOptions({ dvr_window_length: '0' }).dvrWindow).toBe(1);
    expect(resolvePpOptions({ dvr_window_length: '-5' }).dvrWindow).toBe(1);
    expect(resolvePpOptions({ dvr_window_length: '3600' }).dvrWindow).toBe(3600);
    expect(resolvePpOptions({ archive_length: '-1' }).archiveLength).toBe(0);
    expect(resolvePpOptions({ archive_length: '7200' }).archiveLength).toBe(7200);
    // hls.part_duration: 0.1..2, and at most half of the (clamped) fragment_duration.
    expect(spec('hls.part_duration')).toMatchObject({ min: 0.1, max: 2, maxShareOfFragment: 0.5 });
    expect(resolvePpOptions({ 'hls.part_duration': '0.01' }).hlsPartDuration).toBe(0.1);
    expect(resolvePpOptions({ 'hls.part_duration': '5', fragment_duration: '6' }).hlsPartDuration).toBe(2);
    expect(resolvePpOptions({ 'hls.part_duration': '1.5', fragment_duration: '2' }).hlsPartDuration).toBe(1);
    expect(resolvePpOptions({ fragment_duration: '0.6' }).hlsPartDuration).toBe(0.3);
    expect(resolvePpOptions({ fragment_duration: '0.1' }).hlsPartDuration).toBe(0.25);
  });

  it('falls back to the default for what is not a value', () => {
    for (const v of ['', '  ', 'soon', 'Infinity', 'NaN']) {
      const o = resolvePpOptions({
        fragment_duration: v,
        dvr_window_length: v,
        archive_length: v,
        archive_segment_length: v,
        'hls.part_duration': v,
        'hls.minimum_fragment_length': v,
        'mpd.minimum_fragment_length': v,
        archiving: v,
        restart_on_encoder_reconnect: v,
        'hls.low_latency': v,
      });
      expect(o, JSON.stringify(v)).toMatchObject({
        fragmentDuration: 2,
        dvrWindow: 30,
        archiveLength: 0,
        archiveSegmentLength: 0,
        hlsPartDuration: 0.5,
        hlsMinimumFragmentLength: 0,
        mpdMinimumFragmentLength: 0,
        archiving: false,
        restartOnEncoderReconnect: true,
        hlsLowLatency: false,
      });
    }
    expect(resolvePpOptions({ 'hls.minimum_fragment_length': '48/25' }).hlsMinimumFragmentLength).toBe(0);
  });

  it('reads booleans as the specs say', () => {
    for (const v of ['true', 'TRUE', ' yes ', '1'])
      expect(resolvePpOptions({ archiving: v }).archiving).toBe(true);
    for (const v of ['false', 'No', '0'])
      expect(resolvePpOptions({ restart_on_encoder_reconnect: v }).restartOnEncoderReconnect).toBe(false);
  });

  it('reads lookahead_fragments as a whole number, anything else is the default', () => {
    expect(resolvePpOptions({ lookahead_fragments: '3' }).lookaheadFragments).toBe(3);
    expect(resolvePpOptions({ lookahead_fragments: '0' }).lookaheadFragments).toBe(0);
    expect(resolvePpOptions({ lookahead_fragments: '1.5' }).lookaheadFragments).toBe(2);
    expect(resolvePpOptions({ lookahead_fragments: '-1' }).lookaheadFragments).toBe(2);
    expect(resolvePpOptions({ lookahead_fragments: 'many' }).lookaheadFragments).toBe(2);
    // As it has always been read (Number('') is 0).
    expect(resolvePpOptions({ lookahead_fragments: '' }).lookaheadFragments).toBe(0);
  });

  it('leaves the derived MPD options undefined when unset or not a number', () => {
    expect(
      resolvePpOptions({ 'mpd.min_buffer_time': '3', 'mpd.suggested_presentation_delay': '7.5' }),
    ).toMatchObject({ mpdMinBufferTime: 3, mpdSuggestedPresentationDelay: 7.5 });
    expect(
      resolvePpOptions({ 'mpd.min_buffer_time': 'x', 'mpd.suggested_presentation_delay': 'y' }),
    ).toMatchObject({ mpdMinBufferTime: undefined, mpdSuggestedPresentationDelay: undefined });
    expect(resolvePpOptions({ 'mpd.min_buffer_time': '' }).mpdMinBufferTime).toBe(0);
  });

  it('takes mpd.segment_template only as one of its values, exactly', () => {
    expect(spec('mpd.segment_template')).toMatchObject({
      values: ['time', 'number_timeline'],
      default: 'time',
    });
    expect(resolvePpOptions({ 'mpd.segment_template': 'number_timeline' }).mpdSegmentTemplate).toBe(
      'number_timeline',
    );
    expect(resolvePpOptions({ 'mpd.segment_template': 'Number_Timeline' }).mpdSegmentTemplate).toBe('time');
    expect(resolvePpOptions({ 'mpd.segment_template': 'number' }).mpdSegmentTemplate).toBe('time');
  });

  it('gives the minimum fragment lengths to the segment grouping', () => {
    const o = {
      fragment_duration: '2',
      'hls.minimum_fragment_length': '6',
      'mpd.minimum_fragment_length': '4',
    };
    expect(resolvePpOptions(o)).toMatchObject({ hlsMinimumFragmentLength: 6, mpdMinimumFragmentLength: 4 });
    expect(groupLength(o, 'hls')).toBe(6000);
    expect(groupLength(o, 'mpd')).toBe(4000);
    // Not longer than a fragment: fragments as they are.
    expect(minimumLength({ 'hls.minimum_fragment_length': '2' }, 'hls', 2)).toBe(0);
    expect(groupLength({ 'hls.low_latency': 'true', fragment_duration: '2' }, 'mpd')).toBe(2000);
  });

  it('parses a record once', () => {
    const record: PublishingPointOptions = {
      fragment_duration: '4',
      'mpd.segment_template': 'number_timeline',
    };
    let reads = 0;
    const counted = new Proxy(record, {
      get(target, key, receiver) {
        reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const first = resolvePpOptions(counted);
    const afterFirst = reads;
    expect(afterFirst).toBeGreaterThan(0);
    expect(resolvePpOptions(counted)).toBe(first);
    expect(groupLength(counted, 'hls')).toBe(0);
    expect(reads).toBe(afterFirst);
    // Another record with the same content is parsed on its own, to an equal result.
    const other = resolvePpOptions({ ...record });
    expect(other).not.toBe(first);
    expect(other).toEqual(first);
    // The shared result cannot be changed by a caller.
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('keeps unknown options verbatim', () => {
    const options: PublishingPointOptions = {
      dvr_window_length: '10',
      'hls.client_manifest_version': '4',
      x_vendor_option: '  kept as is  ',
    };
    const before = { ...options };
    resolvePpOptions(options);
    expect(options).toEqual(before);
    expect(ppOptionSpec('x_vendor_option')).toBeUndefined();
    const round = parseServerManifest(renderServerManifest(options, [])).options;
    expect(round).toMatchObject({ 'hls.client_manifest_version': '4', x_vendor_option: '  kept as is  ' });
    expect(resolvePpOptions(round).dvrWindow).toBe(10);
  });
});

describe('recording ("Record this event")', () => {
  const idle: PublishingPointOptions = { ...DEFAULT_PP_OPTIONS };

  it('sets archiving, the DVR window in minutes and the days kept, and reads them back', () => {
    const on = withRecording(idle, { record: true, dvrWindowMinutes: 2, keepDays: 7 });
    expect(on).toMatchObject({ archiving: 'true', dvr_window_length: '120', archive_length: '604800' });
    // Nothing else changes.
    expect(on.fragment_duration).toBe(idle.fragment_duration);
    expect(recordingOf(on)).toEqual({ record: true, dvrWindowMinutes: 2, keepDays: 7 });
    // Parts left out keep their values; off keeps the settings for next time.
    const off = withRecording(on, { record: false });
    expect(off).toMatchObject({ archiving: 'false', dvr_window_length: '120', archive_length: '604800' });
    expect(recordingOf(idle)).toEqual({ record: false, dvrWindowMinutes: 0.5, keepDays: 0 });
  });

  it('only adds recording: archiving turned on, with the DVR window and retention', () => {
    expect(onlyAddsRecording(idle, withRecording(idle, { record: true }))).toBe(true);
    expect(
      onlyAddsRecording(idle, withRecording(idle, { record: true, dvrWindowMinutes: 10, keepDays: 3 })),
    ).toBe(true);
    expect(onlyAddsRecording(idle, { ...idle, archiving: 'yes', archive_segment_length: '60' })).toBe(true);
  });

  it('does not only add recording when it turns it off, drops more, or changes anything else', () => {
    const on = withRecording(idle, { record: true, keepDays: 7 });
    // Off, or nothing about recording changing but another option.
    expect(onlyAddsRecording(on, withRecording(on, { record: false }))).toBe(false);
    expect(onlyAddsRecording(idle, { ...idle, dvr_window_length: '60' })).toBe(false);
    expect(
      onlyAddsRecording(idle, { ...withRecording(idle, { record: true }), fragment_duration: '4' }),
    ).toBe(false);
    expect(
      onlyAddsRecording(idle, { ...withRecording(idle, { record: true }), 'hls.low_latency': 'true' }),
    ).toBe(false);
    // Kept for less time than before drops recordings sooner; longer, or everything, adds.
    expect(onlyAddsRecording(on, withRecording(on, { record: true, keepDays: 1 }))).toBe(false);
    expect(onlyAddsRecording(on, withRecording(on, { record: true, keepDays: 30 }))).toBe(true);
    expect(onlyAddsRecording(on, withRecording(on, { record: true, keepDays: 0 }))).toBe(true);
    const all = withRecording(idle, { record: true, keepDays: 0 });
    expect(onlyAddsRecording(all, withRecording(all, { record: true, keepDays: 30 }))).toBe(false);
  });
});
