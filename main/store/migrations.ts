/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction;
 * SQLite's `user_version` records the last one applied. Never edit a landed migration: add one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'channels, events, publishing points, segment index',
    sql: `
      CREATE TABLE channels (
        entry_id    TEXT PRIMARY KEY,
        partner_id  INTEGER NOT NULL,
        name        TEXT NOT NULL,
        token       TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id  TEXT NOT NULL,
        at        INTEGER NOT NULL,
        level     TEXT NOT NULL,
        code      TEXT NOT NULL,
        message   TEXT NOT NULL
      );
      CREATE INDEX events_by_entry ON events (entry_id, id);
      CREATE TABLE ingest_sessions (
        id            TEXT PRIMARY KEY,
        entry_id      TEXT NOT NULL,
        stream_name   TEXT NOT NULL,
        server_index  INTEGER NOT NULL,
        remote        TEXT NOT NULL,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER
      );
      CREATE INDEX ingest_sessions_by_entry ON ingest_sessions (entry_id, started_at);
      CREATE TABLE publishing_points (
        name        TEXT PRIMARY KEY,
        options     TEXT NOT NULL,
        state       TEXT NOT NULL,
        epoch       INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE TABLE tracks (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        pp           TEXT NOT NULL REFERENCES publishing_points (name) ON DELETE CASCADE,
        track_name   TEXT NOT NULL,
        kind         TEXT NOT NULL,
        timescale    INTEGER NOT NULL,
        codecs       TEXT NOT NULL,
        bitrate      INTEGER,
        width        INTEGER,
        height       INTEGER,
        frame_rate   REAL,
        sample_rate  INTEGER,
        channels     INTEGER,
        audio_track  TEXT,
        state        TEXT NOT NULL,
        updated_at   INTEGER NOT NULL,
        UNIQUE (pp, track_name)
      );
      CREATE TABLE fragments (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        track_id       INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
        sequence       INTEGER NOT NULL,
        media_time     INTEGER NOT NULL,
        duration       INTEGER NOT NULL,
        utc            INTEGER NOT NULL,
        size           INTEGER NOT NULL,
        file           TEXT NOT NULL,
        discontinuity  INTEGER NOT NULL DEFAULT 0,
        server_index   INTEGER NOT NULL DEFAULT 0,
        UNIQUE (track_id, sequence),
        UNIQUE (track_id, media_time)
      );
      CREATE INDEX fragments_by_utc ON fragments (track_id, utc);
    `,
  },
  {
    version: 2,
    name: 'channels can be stopped (publishes refused until started)',
    sql: `ALTER TABLE channels ADD COLUMN accepting INTEGER NOT NULL DEFAULT 1;`,
  },
  {
    version: 3,
    name: 'index of discontinuities (HLS EXT-X-DISCONTINUITY-SEQUENCE on every playlist request)',
    sql: `CREATE INDEX fragments_discontinuities ON fragments (track_id, sequence) WHERE discontinuity = 1;`,
  },
  {
    version: 4,
    name: 'viewer access per channel: open or secure (signed URLs)',
    sql: `ALTER TABLE channels ADD COLUMN access TEXT NOT NULL DEFAULT 'open';`,
  },
  {
    version: 5,
    name: 'spaces of stored media (DuraCloud-style), streamed open or secure',
    sql: `
      CREATE TABLE spaces (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        access      TEXT NOT NULL DEFAULT 'open',
        streaming   INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE space_items (
        space_id    TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        format      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        duration    REAL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (space_id, name)
      );
    `,
  },
  {
    version: 6,
    name: 'fragment sequence numbers never repeat, even after a purge empties a track',
    sql: `
      ALTER TABLE tracks ADD COLUMN last_sequence INTEGER NOT NULL DEFAULT 0;
      UPDATE tracks SET last_sequence = COALESCE((SELECT MAX(sequence) FROM fragments WHERE track_id = tracks.id), 0);
    `,
  },
  {
    version: 7,
    name: 'repeated channel events are one row with a count (first and last time)',
    sql: `
      ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE events ADD COLUMN first_at INTEGER;
    `,
  },
  {
    version: 8,
    name: "a channel's signed URLs can be revoked before they expire: its signature generation",
    sql: `
      ALTER TABLE channels ADD COLUMN signed_generation INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 9,
    name: "push targets: where a channel's stream also goes (the URL holds the destination's stream key)",
    sql: `
      CREATE TABLE push_targets (
        id TEXT PRIMARY KEY,
        entry_id TEXT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        rendition TEXT NOT NULL DEFAULT 'source',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX push_targets_entry ON push_targets (entry_id);
    `,
  },
  {
    version: 10,
    name: 'SRT ingest: each channel has an SRT passphrase and a receiver latency',
    sql: `
      ALTER TABLE channels ADD COLUMN srt_passphrase TEXT;
      ALTER TABLE channels ADD COLUMN srt_latency INTEGER NOT NULL DEFAULT 200;
      UPDATE channels SET srt_passphrase = lower(hex(randomblob(12)));
    `,
  },
  {
    version: 11,
    name: "eCDN: the Kaltura entry's primary broadcast URL, offered as a push target (the cloud copy)",
    sql: `
      ALTER TABLE channels ADD COLUMN kaltura_broadcast_url TEXT;
    `,
  },
];
