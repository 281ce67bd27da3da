/** The seed's default server manifest (002_4a6cb437b41434f0.txt), verbatim. */
export const SEED_DEFAULT_SMIL = `<?xml version="1.0" encoding="utf-8"?>
<!-- Created with Unified Streaming Platform(version=1.7.10) -->
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta name="clientManifestRelativePath" content="test.ismc" />
    <meta name="creator" content="Unified Streaming Platform (USP)" />
    <meta name="lookahead_fragments" content="2" />
    <meta name="dvr_window_length" content="30" />
    <meta name="archive_segment_length" content="0" />
    <meta name="archiving" content="false" />
  </head>
  <body>
    <switch>
    </switch>
  </body>
</smil>
`;
