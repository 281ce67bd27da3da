/**
 * Unified Streaming's publishing point REST API (seed `002_4a6cb437b41434f0.txt`), to the letter, against the real
 * headless appliance:
 * 1. the seed's curl commands run verbatim, only the host replaced (admin listener for the `.isml` CRUD with the
 *    token as the Basic password in the URL's userinfo; origin listener for state/statistics/archive/purge);
 * 2. every row of the seed's response tables, each provoked for real, with its status and the proof that nothing
 *    else changed (no publishing point, no directory, options unchanged);
 * 3. security: credentials, publishing points inside others, paths that try to leave the data directory,
 *    symlinks, and the `--admin-allow` / `--status-allow` address lists.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll } from 'vitest';
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { ffmpegUrl, type Publisher } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { rawRequest, slowUpload, type SlowUploadResult } from '../helpers/http-raw.js';
import { SEED_DEFAULT_SMIL } from '../helpers/seed-smil.js';

const CURL = '/usr/bin/curl';

/** The `<head>` options of {@link SEED_DEFAULT_SMIL}, in order. */
const SEED_OPTIONS: Array<[string, string]> = [
  ['clientManifestRelativePath', 'test.ismc'],
  ['creator', 'Unified Streaming Platform (USP)'],
  ['lookahead_fragments', '2'],
  ['dvr_window_length', '30'],
  ['archive_segment_length', '0'],
  ['archiving', 'false'],
];

const MB = 1024 * 1024;
/** Comfortably over the seed's 50 megabytes (whether read as 10^6 or 2^20 bytes). */
const HUGE = 60 * MB;
const ISO_MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const tempDirs: string[] = [];
/** Files made immutable by a test; made mutable again in afterAll whatever happened. */
const immutable: string[] = [];

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// Before the appliance fixture stops the appliance and removes its data directory.
afterAll(() => {
  for (const f of immutable) spawnSync('chattr', ['-i', f]);
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Helpers

const ppUrl = (id: string): string => `/${id}/${id.split('/').pop()}.isml`;

/** A server manifest with these head options (escaped for an attribute). */
function smilWith(options: Array<[string, string]>): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
    '  <head>',
    ...options.map(([n, c]) => `    <meta name="${esc(n)}" content="${esc(c)}" />`),
    '  </head>',
    '  <body>',
    '    <switch>',
    '    </switch>',
    '  </body>',
    '</smil>',
    '',
  ].join('\n');
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  htmlEntities: true,
  trimValues: false,
  isArray: (name) => ['meta', 'video', 'audio', 'c', 'param'].includes(name),
});

interface SmilDoc {
  smil?: {
    xmlns?: string;
    head?: { meta?: Array<{ name: string; content: string }> };
    body?: Record<string, unknown> | string;
  };
}

/** The `<head><meta name content>` pairs of a SMIL document, in document order. */
function headMetas(doc: string): Array<[string, string]> {
  const p = xml.parse(doc) as SmilDoc;
  return (p.smil?.head?.meta ?? []).map((m) => [m.name, m.content]);
}

/** Everything below a directory (relative paths), to compare before/after. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

interface CurlResult {
  exit: number | null;
  /** Status of the last `< HTTP/x y` line of `-v` output (or of `-w %{http_code}`). */
  status: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs curl with exactly these arguments (no shell) in `cwd`. */
function curl(args: string[], cwd: string): CurlResult {
  const r = spawnSync(CURL, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  const lines = [...r.stderr.matchAll(/^< HTTP\/[\d.]+ (\d{3})/gm)];
  const status = lines.length > 0 ? Number(lines[lines.length - 1]?.[1]) : undefined;
  return { exit: r.status, status, stdout: r.stdout, stderr: r.stderr };
}

function describeUpload(r: SlowUploadResult): string {
  return (
    `status=${r.status} error=${r.error ?? '-'} bytesAtResponse=${r.bytesAtResponse} ` +
    `bytesWritten=${r.bytesWritten} finishedSending=${r.finishedSending} body=${JSON.stringify(r.body.slice(0, 200))}`
  );
}

/**
 * The helpers that talk to the file's appliance, bound to it: the `pp` fixture (tests destructure what they use).
 */
function ppHelpers(a: RunningAppliance) {
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${a.token}` });

  /** A publishing point API request on the admin listener, with the admin token (fetch: normal paths only). */
  async function api(
    method: string,
    urlPath: string,
    body?: string,
    headers: Record<string, string> = bearer(),
  ): Promise<{ status: number; body: string }> {
    const r = await fetch(a.admin + urlPath, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/smil+xml' } : {}), ...headers },
      body,
    });
    return { status: r.status, body: await r.text() };
  }

  const originDir = (app: RunningAppliance = a): string => path.join(app.dataDir, 'origin');
  const ppDir = (id: string, app: RunningAppliance = a): string => path.join(originDir(app), id);

  /** The options a GET returns, or the status when it is not 200. */
  async function optionsOf(id: string): Promise<Array<[string, string]> | number> {
    const r = await api('GET', ppUrl(id));
    return r.status === 200 ? headMetas(r.body) : r.status;
  }

  async function create(id: string, body = SEED_DEFAULT_SMIL): Promise<void> {
    const r = await api('POST', ppUrl(id), body);
    if (r.status !== 201) throw new Error(`setup: POST ${ppUrl(id)} → ${r.status} ${r.body}`);
  }

  /** Asserts that no publishing point `id` exists: GET 404 and no directory on disk. */
  async function expectNoPp(id: string, why: string): Promise<void> {
    expect((await api('GET', ppUrl(id))).status, `${why}: GET ${ppUrl(id)} afterwards`).toBe(404);
    expect(fs.existsSync(ppDir(id)), `${why}: ${ppDir(id)} must not exist`).toBe(false);
  }

  /** The seed's host replaced by the admin token as Basic credentials (curl sends URL userinfo as Basic). */
  const adminHost = (): string => `any:${a.token}@127.0.0.1:${a.adminPort}`;
  const originHost = (): string => `127.0.0.1:${a.httpPort}`;
  const originHostWithCreds = (): string => `any:${a.token}@127.0.0.1:${a.httpPort}`;

  async function applianceUp(): Promise<void> {
    expect(a.proc.exitCode, 'the appliance process is still running').toBeNull();
    const h = await fetch(`${a.admin}/api/v1/health`);
    expect(h.status, 'the admin listener still answers').toBe(200);
    const s = await fetch(`${a.origin}/nothing/nothing.isml/state`);
    expect(s.status, 'the origin listener still answers').toBe(404);
  }

  /**
   * ~60 MB sent slowly; the 413 must arrive before the client is done sending, and the appliance stays up.
   * Soft assertions: the caller's "nothing else changed" checks run even when the 413 is missing.
   */
  async function expectEarly413(method: string, urlPath: string, chunked: boolean): Promise<void> {
    const r = await slowUpload(a.admin, method, urlPath, {
      headers: { ...bearer(), 'content-type': 'application/smil+xml' },
      totalBytes: HUGE,
      prefix: smilWith([['huge', 'yes']]).replace('</smil>\n', '<!-- '),
      chunked,
      chunkBytes: 256 * 1024,
      pauseMs: 2,
    });
    await applianceUp();
    const what = `${method} ${urlPath} with ${HUGE} bytes (${chunked ? 'chunked, no Content-Length' : 'Content-Length'})`;
    expect.soft(r.status, `${what}: expected a 413 response; got ${describeUpload(r)}`).toBe(413);
    expect
      .soft(
        r.finishedSending,
        `${what}: the 413 must come before the whole body was sent; ${describeUpload(r)}`,
      )
      .toBe(false);
    expect.soft(r.bytesAtResponse ?? HUGE, `${what}: bytes written when the 413 arrived`).toBeLessThan(HUGE);
    if (!chunked) {
      // The declared length alone is enough to refuse: nowhere near 50 MB need be read.
      expect
        .soft(r.bytesAtResponse ?? HUGE, `${what}: refused on the declared Content-Length`)
        .toBeLessThan(50 * 1e6);
    }
  }

  return {
    bearer,
    api,
    originDir,
    ppDir,
    optionsOf,
    create,
    expectNoPp,
    adminHost,
    originHost,
    originHostWithCreds,
    applianceUp,
    expectEarly413,
  };
}

const test = base.extend('pp', { scope: 'file' }, ({ appliance }) => ppHelpers(appliance));

// ---------------------------------------------------------------------------------------------------------
// 1. The seed's curl commands, verbatim

describe("the seed's curl commands, run verbatim (host replaced)", () => {
  let cwd: string;

  beforeAll(() => {
    cwd = tempDir('ecdn-curl-');
    fs.writeFileSync(path.join(cwd, 'channel00.isml'), SEED_DEFAULT_SMIL);
  });

  test('Create: curl -v -X POST -d @channel00.isml …/channel00/channel00.isml → 201, empty body', ({
    pp: { ppDir, adminHost },
  }) => {
    const r = curl(
      ['-v', '-X', 'POST', '-d', '@channel00.isml', `http://${adminHost()}/channel00/channel00.isml`],
      cwd,
    );
    expect(r.exit, r.stderr).toBe(0);
    expect(r.status, r.stderr).toBe(201);
    expect(r.stdout).toBe('');
    expect(fs.statSync(ppDir('channel00')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(ppDir('channel00'), 'channel00.isml'))).toBe(true);
  });

  test('Read: curl -v -X GET → 200 and the SMIL with the 6 options of the file, in order', ({
    pp: { adminHost },
  }) => {
    const r = curl(['-v', '-X', 'GET', `http://${adminHost()}/channel00/channel00.isml`], cwd);
    expect(r.exit, r.stderr).toBe(0);
    expect(r.status, r.stderr).toBe(200);
    expect(r.stdout).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?>/);
    const doc = xml.parse(r.stdout) as SmilDoc;
    expect(doc.smil?.xmlns).toBe('http://www.w3.org/2001/SMIL20/Language');
    expect(headMetas(r.stdout)).toEqual(SEED_OPTIONS);
  });

  test("Update: the seed's PUT (its missing line-continuation backslash fixed: one command) → 200", ({
    pp: { adminHost },
  }) => {
    const r = curl(
      ['-v', '-X', 'PUT', '-d', '@channel00.isml', `http://${adminHost()}/channel00/channel00.isml`],
      cwd,
    );
    expect(r.exit, r.stderr).toBe(0);
    expect(r.status, r.stderr).toBe(200);
    const read = curl(['-v', '-X', 'GET', `http://${adminHost()}/channel00/channel00.isml`], cwd);
    expect(headMetas(read.stdout)).toEqual(SEED_OPTIONS);
  });

  test('state, statistics, archive: curl -v …/loop/loop.isml/<x> → 200 with the seed structure', async ({
    pp: { create, originHost },
  }) => {
    await create('loop');
    const state = curl(['-v', `http://${originHost()}/loop/loop.isml/state`], cwd);
    expect(state.exit, state.stderr).toBe(0);
    expect(state.status, state.stderr).toBe(200);
    expect(state.stdout).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?>/);
    // The seed's exact layout: one attribute a line, explicit closing tags.
    expect(state.stdout).toMatch(/<meta\n\s+name="state"\n\s+content="idle">\n\s+<\/meta>/);
    expect(state.stdout).toMatch(/<meta\n\s+name="updated"\n\s+content="[^"]+">\n\s+<\/meta>/);
    const metas = Object.fromEntries(headMetas(state.stdout));
    expect(metas.state).toBe('idle');
    expect(metas.updated).toMatch(ISO_MICROS);
    expect(headMetas(state.stdout).map(([n]) => n)).toEqual(['updated', 'state']);

    for (const what of ['statistics', 'archive']) {
      const r = curl(['-v', `http://${originHost()}/loop/loop.isml/${what}`], cwd);
      expect(r.exit, r.stderr).toBe(0);
      expect(r.status, `${what}: ${r.stderr}`).toBe(200);
      const doc = xml.parse(r.stdout) as SmilDoc;
      expect(doc.smil?.xmlns, what).toBe('http://www.w3.org/2001/SMIL20/Language');
      expect(headMetas(r.stdout), what).toEqual([['updated', expect.stringMatching(ISO_MICROS)]]);
      expect(r.stdout, what).toMatch(/<body>/);
      // Idle: no track has ingested anything.
      expect(r.stdout, what).not.toMatch(/<(video|audio)\b/);
    }
  });

  test('purge: the three t=HH:MM:SS forms and the full-range ISO one on stream1/stream1.isml → 200', async ({
    pp: { api, create, originHostWithCreds },
  }) => {
    await create('stream1');
    // The seed's purge commands have no -v: `-w` is appended only to read the status; the request is unchanged.
    for (const t of [
      '00:00:00-00:02:30',
      '02:00:00',
      '48:00:00',
      '1970-01-01T13:16:03.44-1970-01-01T13:21:57.124535',
    ]) {
      const r = curl(
        [
          '-X',
          'POST',
          `http://${originHostWithCreds()}/stream1/stream1.isml/purge?t=${t}`,
          '-w',
          '\\n%{http_code}',
        ],
        cwd,
      );
      expect(r.exit, r.stderr).toBe(0);
      const code = Number(r.stdout.trim().split('\n').pop());
      expect(code, `purge?t=${t}: ${r.stdout}`).toBe(200);
    }
    expect(headMetas((await api('GET', '/stream1/stream1.isml')).body)).toEqual(SEED_OPTIONS);
  });

  test('Delete: curl -v -X DELETE → 200, the directory is gone', async ({
    pp: { expectNoPp, adminHost },
  }) => {
    const r = curl(['-v', '-X', 'DELETE', `http://${adminHost()}/channel00/channel00.isml`], cwd);
    expect(r.exit, r.stderr).toBe(0);
    expect(r.status, r.stderr).toBe(200);
    await expectNoPp('channel00', 'after DELETE');
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. Every row of the response tables

describe('Create (POST)', () => {
  test('201 Server manifest successfully created: empty body, directory and manifest on disk', async ({
    pp: { api, ppDir, optionsOf },
  }) => {
    const r = await api('POST', '/c201/c201.isml', SEED_DEFAULT_SMIL);
    expect(r.status).toBe(201);
    expect(r.body).toBe('');
    expect(await optionsOf('c201')).toEqual(SEED_OPTIONS);
    expect(fs.statSync(ppDir('c201')).isDirectory()).toBe(true);
    expect(headMetas(fs.readFileSync(path.join(ppDir('c201'), 'c201.isml'), 'utf8'))).toEqual(SEED_OPTIONS);
  });

  test.for([
    ['unclosed elements', '<?xml version="1.0"?><smil><head><meta name="a" content="b" /></head>'],
    ['not XML at all', 'this is not a smil file'],
    ['a root other than <smil>', '<?xml version="1.0"?><html><head></head></html>'],
    ['two roots', '<smil></smil><smil></smil>'],
    [
      'an entity declaration',
      '<?xml version="1.0"?><!DOCTYPE smil [<!ENTITY x "y">]><smil><head><meta name="a" content="&x;"/></head></smil>',
    ],
  ] as const)(
    '400 Provided smil content malformed (%s): nothing created',
    async ([_what, body], { pp: { api, expectNoPp } }) => {
      const r = await api('POST', '/cbad/cbad.isml', body);
      expect(r.status, r.body).toBe(400);
      await expectNoPp('cbad', 'refused create');
    },
  );

  test('400 Path and publishing point are not identical (/channel00/other.isml): nothing created', async ({
    pp: { api, originDir, expectNoPp },
  }) => {
    const r = await api('POST', '/channel00/other.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(400);
    await expectNoPp('channel00', 'refused create');
    expect(fs.existsSync(path.join(originDir(), 'other'))).toBe(false);
  });

  test.for([
    ['an empty body', ''],
    ['only whitespace', '  \n\t \n'],
  ] as const)(
    '404 No smil content provided (%s): nothing created',
    async ([_what, body], { pp: { api, expectNoPp } }) => {
      const r = await api('POST', '/cempty/cempty.isml', body);
      expect(r.status, r.body).toBe(404);
      await expectNoPp('cempty', 'refused create');
    },
  );

  test('404 No smil content provided (no body at all, no Content-Length): nothing created', async ({
    appliance: a,
    pp: { bearer, expectNoPp },
  }) => {
    const r = await rawRequest(a.admin, 'POST', '/cnobody/cnobody.isml', { headers: bearer() });
    expect(r.status, r.body).toBe(404);
    await expectNoPp('cnobody', 'refused create');
  });

  test('404 Base path to publishing point missing (/channel00.isml): nothing created', async ({
    appliance: a,
    pp: { api, originDir },
  }) => {
    const before = tree(originDir());
    const r = await api('POST', '/cbase.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(404);
    expect(tree(originDir())).toEqual(before);
    expect(fs.existsSync(path.join(a.dataDir, 'cbase.isml'))).toBe(false);
  });

  test('405 Query string in URL: nothing created', async ({ appliance: a, pp: { bearer, expectNoPp } }) => {
    // Raw requests: fetch would drop a bare "?".
    for (const q of ['?archiving=true', '?', '?a', '?t=00:00:00']) {
      const r = await rawRequest(a.admin, 'POST', `/cquery/cquery.isml${q}`, {
        headers: bearer(),
        body: SEED_DEFAULT_SMIL,
      });
      expect(r.status, `POST /cquery/cquery.isml${q}: ${r.body}`).toBe(405);
    }
    await expectNoPp('cquery', 'refused create');
  });

  test('409 Publishing point already exists: the existing one is unchanged', async ({
    pp: { api, ppDir, optionsOf, create },
  }) => {
    await create('cdup');
    const other = smilWith([['dvr_window_length', '99']]);
    const r = await api('POST', '/cdup/cdup.isml', other);
    expect(r.status, r.body).toBe(409);
    expect(await optionsOf('cdup')).toEqual(SEED_OPTIONS);
    expect(headMetas(fs.readFileSync(path.join(ppDir('cdup'), 'cdup.isml'), 'utf8'))).toEqual(SEED_OPTIONS);
  });

  test('409 when the directory already exists on disk ("does not exist prior to the operation"): left alone', async ({
    pp: { api, ppDir },
  }) => {
    fs.mkdirSync(ppDir('cpredir'));
    fs.writeFileSync(path.join(ppDir('cpredir'), 'mine.txt'), 'keep me');
    const r = await api('POST', '/cpredir/cpredir.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(409);
    expect((await api('GET', '/cpredir/cpredir.isml')).status).toBe(404);
    expect(tree(ppDir('cpredir'))).toEqual(['mine.txt']);
    expect(fs.readFileSync(path.join(ppDir('cpredir'), 'mine.txt'), 'utf8')).toBe('keep me');
  });

  test('413 Smil file larger than 50 megabytes (slow ~60 MB, Content-Length): refused before the end', async ({
    pp: { expectNoPp, expectEarly413 },
  }) => {
    await expectEarly413('POST', '/chuge/chuge.isml', false);
    await expectNoPp('chuge', 'refused create');
  });

  test('413 Smil file larger than 50 megabytes (slow ~60 MB, chunked, no Content-Length): refused before the end', async ({
    pp: { expectNoPp, expectEarly413 },
  }) => {
    await expectEarly413('POST', '/chuge2/chuge2.isml', true);
    await expectNoPp('chuge2', 'refused create');
  });

  test('415 URL does not end in isml (/channel00/channel00.txt): nothing created', async ({
    pp: { api, originDir, expectNoPp },
  }) => {
    const before = tree(originDir());
    for (const p of ['/channel00/channel00.txt', '/channel00/channel00.ism', '/channel00/channel00.isml/']) {
      const r = await api('POST', p, SEED_DEFAULT_SMIL);
      expect(r.status, `POST ${p}: ${r.body}`).toBe(415);
    }
    expect(tree(originDir())).toEqual(before);
    await expectNoPp('channel00', 'refused create');
  });

  test('500 Creation of resources failed (<dataDir>/origin/blocked is a regular file): nothing created', async ({
    pp: { api, originDir },
  }) => {
    const blocked = path.join(originDir(), 'blocked');
    fs.writeFileSync(blocked, 'not a directory');
    const r = await api('POST', '/blocked/ch/ch.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(500);
    expect((await api('GET', '/blocked/ch/ch.isml')).status).toBe(404);
    expect(fs.statSync(blocked).isFile()).toBe(true);
    expect(fs.readFileSync(blocked, 'utf8')).toBe('not a directory');
    // Once the obstacle is gone the same request succeeds: the refusal left no half-created state behind.
    fs.rmSync(blocked);
    expect((await api('POST', '/blocked/ch/ch.isml', SEED_DEFAULT_SMIL)).status).toBe(201);
    expect(fs.existsSync(path.join(originDir(), 'blocked', 'ch', 'ch.isml'))).toBe(true);
  });
});

describe('Read (GET)', () => {
  test('200 Smil file content returned', async ({ appliance: a, pp: { bearer, create } }) => {
    await create('rd');
    const r = await fetch(`${a.admin}/rd/rd.isml`, { headers: bearer() });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/smil|xml/);
    const body = await r.text();
    expect(body).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?>/);
    expect(headMetas(body)).toEqual(SEED_OPTIONS);
  });

  test('400 Path and publishing point name are not identical', async ({ pp: { api, optionsOf } }) => {
    const r = await api('GET', '/rd/other.isml');
    expect(r.status, r.body).toBe(400);
    expect(await optionsOf('rd')).toEqual(SEED_OPTIONS);
  });

  test('404 Publishing point does not exist', async ({ pp: { api, ppDir } }) => {
    const r = await api('GET', '/rnone/rnone.isml');
    expect(r.status, r.body).toBe(404);
    expect(fs.existsSync(ppDir('rnone'))).toBe(false);
  });
});

describe('Update (PUT)', () => {
  const updated: Array<[string, string]> = [
    ['dvr_window_length', '60'],
    ['archiving', 'true'],
    ['archive_length', '3600'],
    ['my_vendor_option', 'a&b <c> "d" é ✓'],
    ['CaseSensitive_Option', 'Mixed Case'],
  ];

  test.beforeAll(async ({ pp: { create } }) => {
    await create('up');
  });

  test('200 Publishing point updated: GET returns the new options, unknown ones verbatim; the file follows', async ({
    pp: { api, ppDir, optionsOf },
  }) => {
    const r = await api('PUT', '/up/up.isml', smilWith(updated));
    expect(r.status, r.body).toBe(200);
    expect(await optionsOf('up')).toEqual(updated);
    expect(headMetas(fs.readFileSync(path.join(ppDir('up'), 'up.isml'), 'utf8'))).toEqual(updated);
  });

  test('200, and option values are kept verbatim: surrounding spaces, tabs and newlines included', async ({
    pp: { api, optionsOf, create },
  }) => {
    await create('upws');
    const verbatim: Array<[string, string]> = [
      ['leading_trailing_spaces', ' spaced value '],
      ['only_spaces', '   '],
      ['tab_and_newline', 'a\tb\nc'],
    ];
    // Tab and newline as character references: a literal one would be normalised to a space by any XML parser.
    const body = smilWith(verbatim).replace('a\tb\nc', 'a&#9;b&#10;c');
    const r = await api('PUT', '/upws/upws.isml', body);
    expect(r.status, r.body).toBe(200);
    expect(await optionsOf('upws'), `GET after PUT of ${JSON.stringify(verbatim)}`).toEqual(verbatim);
  });

  test('400 Provided smil content malformed: options unchanged', async ({ pp: { api, optionsOf } }) => {
    const r = await api(
      'PUT',
      '/up/up.isml',
      '<smil><head><meta name="dvr_window_length" content="1"></head>',
    );
    expect(r.status, r.body).toBe(400);
    expect(await optionsOf('up')).toEqual(updated);
  });

  test('400 Path and publishing point name are not identical: options unchanged', async ({
    pp: { api, optionsOf },
  }) => {
    const r = await api('PUT', '/up/other.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(400);
    expect(await optionsOf('up')).toEqual(updated);
  });

  test('404 No smil content provided: options unchanged', async ({ pp: { api, optionsOf } }) => {
    for (const body of ['', ' \n ']) {
      const r = await api('PUT', '/up/up.isml', body);
      expect(r.status, `PUT with ${JSON.stringify(body)}: ${r.body}`).toBe(404);
    }
    expect(await optionsOf('up')).toEqual(updated);
  });

  test('404 Publishing point does not exist on server: nothing created', async ({
    pp: { api, expectNoPp },
  }) => {
    const r = await api('PUT', '/unone/unone.isml', SEED_DEFAULT_SMIL);
    expect(r.status, r.body).toBe(404);
    await expectNoPp('unone', 'refused update');
  });

  test('413 Smil file larger than 50 megabytes (slow ~60 MB, Content-Length): options unchanged', async ({
    pp: { optionsOf, expectEarly413 },
  }) => {
    await expectEarly413('PUT', '/up/up.isml', false);
    expect(await optionsOf('up')).toEqual(updated);
  });

  test('413 Smil file larger than 50 megabytes (slow ~60 MB, chunked): options unchanged', async ({
    pp: { optionsOf, expectEarly413 },
  }) => {
    await expectEarly413('PUT', '/up/up.isml', true);
    expect(await optionsOf('up')).toEqual(updated);
  });
  // 403 Publishing point active: see "an active publishing point" below.
});

describe('Delete (DELETE)', () => {
  test('200 Publishing point deleted: the directory and everything in it are gone', async ({
    pp: { api, ppDir, optionsOf, create, expectNoPp },
  }) => {
    await create('del');
    fs.mkdirSync(path.join(ppDir('del'), 'sub'));
    fs.writeFileSync(path.join(ppDir('del'), 'sub', 'file.txt'), 'x');
    const r = await api('DELETE', '/del/del.isml');
    expect(r.status, r.body).toBe(200);
    await expectNoPp('del', 'after DELETE');
    // Deleted means deleted: it can be created afresh.
    await create('del');
    expect(await optionsOf('del')).toEqual(SEED_OPTIONS);
  });

  test('400 Path and publishing point name are not identical: nothing deleted', async ({
    pp: { api, ppDir, optionsOf, create },
  }) => {
    await create('del400');
    const r = await api('DELETE', '/del400/other.isml');
    expect(r.status, r.body).toBe(400);
    expect(await optionsOf('del400')).toEqual(SEED_OPTIONS);
    expect(fs.existsSync(path.join(ppDir('del400'), 'del400.isml'))).toBe(true);
  });

  test('404 Publishing point does not exist', async ({ pp: { api, originDir } }) => {
    const before = tree(originDir());
    const r = await api('DELETE', '/dnone/dnone.isml');
    expect(r.status, r.body).toBe(404);
    expect(tree(originDir())).toEqual(before);
  });

  test('404 for a directory on disk that is no publishing point: the directory is left alone', async ({
    pp: { api, ppDir },
  }) => {
    fs.mkdirSync(ppDir('dplain'));
    fs.writeFileSync(path.join(ppDir('dplain'), 'dplain.isml'), SEED_DEFAULT_SMIL);
    const r = await api('DELETE', '/dplain/dplain.isml');
    expect(r.status, r.body).toBe(404);
    expect(tree(ppDir('dplain'))).toEqual(['dplain.isml']);
  });

  test('500 The deletion of resources failed (an immutable file in the directory): the publishing point remains', async ({
    skip,
    pp: { api, ppDir, optionsOf, create, expectNoPp },
  }) => {
    await create('dimm');
    const locked = path.join(ppDir('dimm'), 'locked.txt');
    fs.writeFileSync(locked, 'chattr +i');
    const ch = spawnSync('chattr', ['+i', locked], { encoding: 'utf8' });
    if (ch.status !== 0) {
      skip(
        `chattr +i is not possible here (${(ch.stderr || ch.error?.message || '').trim()}): 500 not provoked`,
      );
    }
    immutable.push(locked);
    try {
      const r = await api('DELETE', '/dimm/dimm.isml');
      expect(r.status, r.body).toBe(500);
      expect(await optionsOf('dimm'), 'the publishing point still exists after a failed delete').toEqual(
        SEED_OPTIONS,
      );
      expect(fs.existsSync(locked)).toBe(true);
    } finally {
      spawnSync('chattr', ['-i', locked]);
    }
    const again = await api('DELETE', '/dimm/dimm.isml');
    expect(again.status, `DELETE after chattr -i: ${again.body}`).toBe(200);
    await expectNoPp('dimm', 'after DELETE');
  });
  // 403 Publishing point active / not fully purged: see below.
});

// ---------------------------------------------------------------------------------------------------------
// 403: a real encoder feeding a channel's publishing point /<entryId>/<entryId>.isml

describe('an active publishing point (ffmpeg publishing over RTMP)', () => {
  let c: ChannelJson;
  let enc: Publisher;
  let url: string;
  const changed = smilWith([['dvr_window_length', '99']]);

  async function stateOf(a: RunningAppliance): Promise<string | undefined> {
    const r = await fetch(`${a.origin}${url}/state`);
    if (r.status !== 200) return undefined;
    return Object.fromEntries(headMetas(await r.text())).state;
  }

  async function archiveRanges(a: RunningAppliance): Promise<number> {
    const r = await fetch(`${a.origin}${url}/archive`);
    expect(r.status).toBe(200);
    return ((await r.text()).match(/<c start="/g) ?? []).length;
  }

  /** "trackName start→end" per range of an /archive document. */
  function archiveSummary(doc: string): string[] {
    const body = (xml.parse(doc) as SmilDoc).smil?.body;
    if (typeof body !== 'object' || body === null) return [];
    const out: string[] = [];
    for (const kind of ['video', 'audio']) {
      const tracks = (body[kind] ?? []) as Array<{
        param?: Array<{ name: string; value: string }>;
        c?: Array<{ start: string; end: string }>;
      }>;
      for (const t of tracks) {
        const name = t.param?.find((p) => p.name === 'trackName')?.value ?? kind;
        for (const c of t.c ?? []) out.push(`${name} ${c.start}→${c.end}`);
      }
    }
    return out;
  }

  const fragmentFiles = (ppDir: (id: string) => string): string[] =>
    tree(ppDir(c.entryId)).filter((f) => f.endsWith('.m4s'));

  test.beforeAll(async ({ appliance: a, publishForFile }) => {
    c = await createChannel(a, 'pp api live');
    url = `/${c.entryId}/${c.entryId}.isml`;
    expect(c.publishingPoint.path).toBe(url);
    // Long enough for the two tests made while it is live (about 3 s in), with room to spare on a busy machine.
    enc = publishForFile(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8 });
  });

  test('403 Publishing point active: PUT while started is refused, options unchanged', async ({
    appliance: a,
    pp: { api, optionsOf },
  }) => {
    await waitFor('publishing point state started', async () => (await stateOf(a)) === 'started', 30_000);
    const before = await optionsOf(c.entryId);
    expect(Array.isArray(before)).toBe(true);
    const r = await api('PUT', url, changed);
    expect(r.status, r.body).toBe(403);
    expect(await optionsOf(c.entryId)).toEqual(before);
  });

  test('403 Publishing point active: DELETE while started is refused, nothing deleted', async ({
    appliance: a,
    pp: { api, ppDir },
  }) => {
    expect(await stateOf(a)).toBe('started');
    const r = await api('DELETE', url);
    expect(r.status, r.body).toBe(403);
    expect((await api('GET', url)).status).toBe(200);
    expect(fs.existsSync(ppDir(c.entryId))).toBe(true);
  });

  test('403 Publishing point is not fully purged: DELETE (and PUT) after the encoder stopped, fragments remain', async ({
    appliance: a,
    pp: { ppDir, api, optionsOf },
  }) => {
    const done = await enc.done;
    expect(done.code, done.stderr).toBe(0);
    await waitFor('publishing point state stopped', async () => (await stateOf(a)) === 'stopped', 30_000);
    expect(await archiveRanges(a)).toBeGreaterThan(0);
    const files = fragmentFiles(ppDir);
    expect(files.length).toBeGreaterThan(0);
    const r = await api('DELETE', url);
    expect(r.status, r.body).toBe(403);
    const before = await optionsOf(c.entryId);
    const put = await api('PUT', url, changed);
    expect(
      put.status,
      `PUT on a stopped, unpurged publishing point (seed: must be completely purged): ${put.body}`,
    ).toBe(403);
    expect(await optionsOf(c.entryId)).toEqual(before);
    expect(fragmentFiles(ppDir)).toEqual(files);
  });

  test('POST …/purge?t=00:00:00 (keep nothing, admin credentials) purges completely: /archive is empty', async ({
    appliance: a,
    pp: { ppDir, bearer },
  }) => {
    const noCreds = await fetch(`${a.origin}${url}/purge?t=00:00:00`, { method: 'POST' });
    expect(noCreds.status, 'purge without credentials').toBe(401);
    expect(await archiveRanges(a), 'nothing purged without credentials').toBeGreaterThan(0);

    const before = archiveSummary(await (await fetch(`${a.origin}${url}/archive`)).text());
    const purge = await fetch(`${a.origin}${url}/purge?t=00:00:00`, { method: 'POST', headers: bearer() });
    const purgeBody = await purge.text();
    expect(purge.status, purgeBody).toBe(200);
    const archive = await (await fetch(`${a.origin}${url}/archive`)).text();
    expect
      .soft(
        archiveSummary(archive),
        `/archive after purge?t=00:00:00 ("${purgeBody.trim()}") still lists fragments; before the purge: ` +
          before.join('; '),
      )
      .toEqual([]);
    expect.soft(fragmentFiles(ppDir), 'fragment files left on disk after purge?t=00:00:00').toEqual([]);
  });

  test("once the archive is completely purged (the seed's full-range purge from /archive), DELETE → 200", async ({
    appliance: a,
    pp: { ppDir, bearer, api, expectNoPp },
  }) => {
    let archive = await (await fetch(`${a.origin}${url}/archive`)).text();
    const starts = [...archive.matchAll(/<c start="([^"]+)"/g)].map((m) => m[1] as string).sort();
    const ends = [...archive.matchAll(/ end="([^"]+)"/g)].map((m) => m[1] as string).sort();
    if (starts.length > 0) {
      // "select the smallest and largest timestamps", written as the seed writes them (no trailing Z).
      const t = `${(starts[0] as string).replace(/Z$/, '')}-${(ends[ends.length - 1] as string).replace(/Z$/, '')}`;
      const purge = await fetch(`${a.origin}${url}/purge?t=${t}`, { method: 'POST', headers: bearer() });
      expect(purge.status, `purge?t=${t}: ${await purge.text()}`).toBe(200);
      archive = await (await fetch(`${a.origin}${url}/archive`)).text();
    }
    expect(archive, '/archive after a complete purge').not.toMatch(/<c start=/);
    expect(archive).not.toMatch(/<(video|audio)\b/);
    expect(fragmentFiles(ppDir), 'fragment files left on disk after a complete purge').toEqual([]);

    const del = await api('DELETE', url);
    expect(del.status, del.body).toBe(200);
    await expectNoPp(c.entryId, 'after DELETE');
  });
});

// ---------------------------------------------------------------------------------------------------------
// 3. Security

describe('security', () => {
  test('401 without credentials and with a wrong token, for every verb; nothing created, changed or deleted', async ({
    appliance: a,
    pp: { api, optionsOf, create, expectNoPp },
  }) => {
    await create('sec');
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: `Bearer ${a.token}x` },
      { authorization: 'Basic ' + Buffer.from('any:wrong-token').toString('base64') },
      { authorization: 'Basic ' + Buffer.from(`${a.token}:`).toString('base64') },
      { authorization: a.token },
    ];
    for (const headers of wrong) {
      const label = JSON.stringify(headers).replace(a.token, '<token>');
      expect(
        (await api('POST', '/secnew/secnew.isml', SEED_DEFAULT_SMIL, headers)).status,
        `POST ${label}`,
      ).toBe(401);
      expect((await api('GET', '/sec/sec.isml', undefined, headers)).status, `GET ${label}`).toBe(401);
      const put = await api('PUT', '/sec/sec.isml', smilWith([['x', 'y']]), headers);
      expect(put.status, `PUT ${label}`).toBe(401);
      expect((await api('DELETE', '/sec/sec.isml', undefined, headers)).status, `DELETE ${label}`).toBe(401);
      const purge = await fetch(`${a.origin}/sec/sec.isml/purge?t=00:00:00`, { method: 'POST', headers });
      expect(purge.status, `purge ${label}`).toBe(401);
    }
    await expectNoPp('secnew', 'unauthenticated create');
    expect(await optionsOf('sec')).toEqual(SEED_OPTIONS);
    // curl with the seed's URL and no userinfo.
    const r = curl(['-v', '-X', 'GET', `http://127.0.0.1:${a.adminPort}/sec/sec.isml`], os.tmpdir());
    expect(r.status, r.stderr).toBe(401);
  });

  test('400 for a publishing point inside (or around) another one; nothing created', async ({
    pp: { api, originDir, ppDir, optionsOf, create },
  }) => {
    await create('channel00');
    const inside = await api('POST', '/channel00/sub/sub.isml', SEED_DEFAULT_SMIL);
    expect(inside.status, inside.body).toBe(400);
    expect((await api('GET', '/channel00/sub/sub.isml')).status).toBe(404);
    expect(fs.existsSync(path.join(ppDir('channel00'), 'sub'))).toBe(false);

    await create('outer/inner');
    const around = await api('POST', '/outer/outer.isml', SEED_DEFAULT_SMIL);
    expect(around.status, around.body).toBe(400);
    expect((await api('GET', '/outer/outer.isml')).status).toBe(404);
    expect(fs.existsSync(path.join(originDir(), 'outer', 'outer.isml'))).toBe(false);
    expect(await optionsOf('outer/inner')).toEqual(SEED_OPTIONS);
    expect(await optionsOf('channel00')).toEqual(SEED_OPTIONS);
  });

  test('paths that try to leave the data directory are never accepted and create nothing', async ({
    appliance: a,
    pp: { bearer, originDir, adminHost },
  }) => {
    const paths = [
      '/../escape/escape.isml',
      '/../../escape/escape.isml',
      '/%2e%2e/escape/escape.isml',
      '/%2E%2E/%2e%2e/escape/escape.isml',
      '/a%2Fb/b.isml',
      '/..%2Fescape/escape.isml',
      '//etc/etc.isml',
      '/.../x.isml',
      '/./dot/dot.isml',
      '/escape/..%2F..%2Fescape.isml',
      '/%00/x.isml',
    ];
    const outside = [
      path.join(a.dataDir, 'escape'),
      path.join(path.dirname(a.dataDir), 'escape'),
      '/escape',
      '/etc/etc',
      '/etc/etc.isml',
      '/x.isml',
      path.join(a.dataDir, 'b.isml'),
      path.join(a.dataDir, 'x.isml'),
    ];
    const dataBefore = fs.readdirSync(a.dataDir).sort();
    const originBefore = tree(originDir());
    const exists = outside.filter((p) => fs.existsSync(p));
    for (const p of paths) {
      for (const method of ['POST', 'PUT', 'GET', 'DELETE']) {
        const body = method === 'POST' || method === 'PUT' ? SEED_DEFAULT_SMIL : undefined;
        const r = await rawRequest(a.admin, method, p, { headers: bearer(), body });
        expect(r.status >= 200 && r.status < 300, `${method} ${p} → ${r.status} ${r.body}`).toBe(false);
      }
    }
    const cwd = tempDir('ecdn-curl-esc-');
    fs.writeFileSync(path.join(cwd, 'channel00.isml'), SEED_DEFAULT_SMIL);
    for (const p of ['/../escape/escape.isml', '/%2e%2e/escape/escape.isml', '//etc/etc.isml']) {
      const r = curl(
        ['-v', '--path-as-is', '-X', 'POST', '-d', '@channel00.isml', `http://${adminHost()}${p}`],
        cwd,
      );
      expect(r.stderr, `curl --path-as-is sent ${p} as is`).toContain(`> POST ${p} HTTP/1.1`);
      expect(
        r.status !== undefined && r.status >= 200 && r.status < 300,
        `curl POST ${p} → ${r.status}`,
      ).toBe(false);
    }
    expect(outside.filter((p) => fs.existsSync(p))).toEqual(exists);
    expect(fs.readdirSync(a.dataDir).sort()).toEqual(dataBefore);
    expect(tree(originDir())).toEqual(originBefore);
  });

  test('a symlink planted in the origin directory is never followed: refused, nothing written in its target', async ({
    pp: { api, originDir },
  }) => {
    const target = tempDir('ecdn-symlink-target-');
    fs.symlinkSync(target, path.join(originDir(), 'link'));
    for (const p of ['/link/inner/inner.isml', '/link/deep/inner/inner.isml', '/link/link.isml']) {
      const r = await api('POST', p, SEED_DEFAULT_SMIL);
      expect(r.status >= 400 && r.status < 600, `POST ${p} → ${r.status} ${r.body}`).toBe(true);
      expect((await api('GET', p)).status, `GET ${p} after the refusal`).toBe(404);
      expect(
        tree(target),
        `POST ${p} → ${r.status} ${r.body.trim()}, but it wrote into the symlink's target ${target}`,
      ).toEqual([]);
    }
    expect(fs.lstatSync(path.join(originDir(), 'link')).isSymbolicLink()).toBe(true);
  });

  describe('address allow lists', () => {
    let b: RunningAppliance | undefined;
    let s: RunningAppliance | undefined;

    test.beforeAll(async ({ startOtherAppliance }) => {
      [b, s] = await Promise.all([
        startOtherAppliance({ extraArgs: ['--admin-allow', '10.9.9.9'] }),
        startOtherAppliance({ extraArgs: ['--status-allow', '10.9.9.9'] }),
      ]);
    });

    test('--admin-allow 10.9.9.9: loopback gets 403 even with the token; nothing created', async ({
      pp: { ppDir },
    }) => {
      const app = b as RunningAppliance;
      const auths: Array<Record<string, string>> = [
        { authorization: `Bearer ${app.token}` },
        { authorization: 'Basic ' + Buffer.from(`any:${app.token}`).toString('base64') },
        {},
      ];
      for (const headers of auths) {
        for (const method of ['POST', 'GET', 'PUT', 'DELETE']) {
          const r = await fetch(`${app.admin}/channel00/channel00.isml`, {
            method,
            headers,
            body: method === 'POST' || method === 'PUT' ? SEED_DEFAULT_SMIL : undefined,
          });
          expect(r.status, `${method} with ${Object.keys(headers).length ? 'credentials' : 'none'}`).toBe(
            403,
          );
        }
      }
      expect(fs.existsSync(ppDir('channel00', app))).toBe(false);
    });

    test('--status-allow 10.9.9.9: /state from loopback is 403 without credentials, 200 with the Bearer token', async () => {
      const app = s as RunningAppliance;
      const created = await fetch(`${app.admin}/loop/loop.isml`, {
        method: 'POST',
        headers: { authorization: `Bearer ${app.token}` },
        body: SEED_DEFAULT_SMIL,
      });
      expect(created.status).toBe(201);
      for (const what of ['state', 'statistics', 'archive']) {
        const u = `${app.origin}/loop/loop.isml/${what}`;
        expect((await fetch(u)).status, `${what} without credentials`).toBe(403);
        const wrong = await fetch(u, { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
        expect(wrong.status, `${what} with a wrong token`).toBe(403);
        const ok = await fetch(u, { headers: { authorization: `Bearer ${app.token}` } });
        expect(ok.status, `${what} with the Bearer token`).toBe(200);
        const body = await ok.text();
        expect(headMetas(body)[0]?.[0], what).toBe('updated');
        if (what === 'state') expect(Object.fromEntries(headMetas(body)).state).toBe('idle');
        const basic = await fetch(u, {
          headers: { authorization: 'Basic ' + Buffer.from(`any:${app.token}`).toString('base64') },
        });
        expect(basic.status, `${what} with the token as Basic password`).toBe(200);
      }
    });
  });
});
