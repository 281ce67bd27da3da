/*
 * The eCDN viewer portal's player code (served as /player/portal.js; no build step, no inline script).
 * - [data-player]: one <video> playing its data-src (an HLS master playlist) with hls.js, or natively; over it a
 *   big play button ([data-bigplay]: click-to-play, shown until it plays and whenever it is paused), a LIVE pill
 *   ([data-live-pill]: red at the live edge, a click jumps back to it) and a quality menu ([data-quality]).
 *   Every request names this player (X-Ecdn-Player, a random id per page) so the appliance counts players
 *   behind one address apart.
 * - [data-share-toggle]: shows and hides the share and embed snippets.
 * - [data-playlist]: a list of a[data-item]; clicking one plays it (HLS video, or <audio> for audio items),
 *   the next one starts when it ends.
 * - button[data-copy]: copies the text of the element it names.
 */
(function () {
  'use strict';

  var Hls = window.Hls;
  var RETRY_MS = 10000;
  var THUMBNAIL_MS = 10000;
  /** After the broadcast stops, how often the page looks whether it is live again. */
  var COMEBACK_MS = 3000;
  /** Further behind the live edge than this (seconds, at least), the LIVE pill offers to jump back. */
  var BEHIND_S = 6;

  /** This page's player id: random, so two players behind one address count as two viewers. */
  var PLAYER_ID = (function () {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? '0' : '') + b.toString(16);
      })
      .join('');
  })();

  /** The page's Live badge ([data-live-badge]) follows what the player sees: Live, Paused. */
  function liveBadge(text, live) {
    var el = document.querySelector('[data-live-badge]');
    if (!el) return;
    el.textContent = text;
    el.className = live ? 'badge badge-live' : 'badge';
  }

  /** The first media playlist a master lists, as a URL. */
  function firstMediaPlaylist(masterUrl, master) {
    var lines = master.split('\n');
    for (var i = 0; i < lines.length; i++) {
      var l = lines[i].trim();
      if (l && l.charAt(0) !== '#') return new URL(l, new URL(masterUrl, window.location.href)).toString();
    }
    return null;
  }

  /** Resolves once the channel is live again: its media playlist has no EXT-X-ENDLIST any more. */
  function whenLiveAgain(src, stillWaiting) {
    return new Promise(function (resolve) {
      function look() {
        if (!stillWaiting()) return;
        fetch(src, { cache: 'no-store', headers: { 'X-Ecdn-Player': PLAYER_ID } })
          .then(function (r) {
            return r.ok ? r.text() : null;
          })
          .then(function (master) {
            var media = master && firstMediaPlaylist(src, master);
            return media
              ? fetch(media, { cache: 'no-store', headers: { 'X-Ecdn-Player': PLAYER_ID } }).then(
                  function (r) {
                    return r.ok ? r.text() : null;
                  },
                )
              : null;
          })
          .then(function (playlist) {
            if (playlist && playlist.indexOf('#EXT-X-ENDLIST') === -1) resolve();
            else setTimeout(look, COMEBACK_MS);
          })
          .catch(function () {
            setTimeout(look, COMEBACK_MS);
          });
      }
      setTimeout(look, COMEBACK_MS);
    });
  }

  function statusLine(text) {
    var el = document.getElementById('player-status');
    if (el) el.textContent = text;
  }

  function canUseHlsJs() {
    return Boolean(Hls && Hls.isSupported());
  }

  function canPlayNativeHls(media) {
    return media.canPlayType('application/vnd.apple.mpegurl') !== '';
  }

  /**
   * Plays `src` (HLS) in `video`. Calls o.onReady when the stream can start, o.onDenied on a 403, o.onMissing
   * when the stream isn't there (yet), o.onUnsupported when this browser can't play HLS.
   * Returns { destroy(), startLoad() }.
   */
  function attachHls(video, src, o) {
    if (canUseHlsJs()) {
      // No worker: it would be a blob: script, which the page's Content-Security-Policy rightly refuses.
      // Low-latency HLS: follow the parts, and play up to 1.5x to catch up with the live edge after a stall.
      var hls = new Hls({
        enableWorker: false,
        autoStartLoad: o.autoStartLoad !== false,
        lowLatencyMode: true,
        maxLiveSyncPlaybackRate: 1.5,
        // Same-origin requests: the header needs no CORS preflight.
        xhrSetup: function (xhr, url) {
          xhr.open('GET', url, true);
          xhr.setRequestHeader('X-Ecdn-Player', PLAYER_ID);
        },
      });
      var mediaRecoveries = 0;
      var loading = o.autoStartLoad !== false;
      hls.on(Hls.Events.MANIFEST_PARSED, function (_event, data) {
        if (o.onLevels) o.onLevels(data.levels || []);
        o.onReady();
      });
      hls.on(Hls.Events.ERROR, function (_event, data) {
        if (!data.fatal) return;
        var code = data.response && data.response.code;
        if (code === 403) {
          hls.destroy();
          o.onDenied();
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
          mediaRecoveries++;
          hls.recoverMediaError();
        } else {
          hls.destroy();
          o.onMissing(code);
        }
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      return {
        destroy: function () {
          hls.destroy();
        },
        startLoad: function () {
          if (!loading) {
            loading = true;
            hls.startLoad(-1);
          }
        },
        /** Where the live edge is (seconds of the media), or null when not live. */
        liveEdge: function () {
          return typeof hls.liveSyncPosition === 'number' ? hls.liveSyncPosition : null;
        },
        setLevel: function (level) {
          hls.currentLevel = level;
        },
      };
    }
    if (canPlayNativeHls(video)) {
      var onError = function () {
        o.onMissing(undefined);
      };
      video.addEventListener('loadedmetadata', o.onReady, { once: true });
      video.addEventListener('error', onError, { once: true });
      video.src = src;
      return {
        destroy: function () {
          video.removeEventListener('loadedmetadata', o.onReady);
          video.removeEventListener('error', onError);
          video.removeAttribute('src');
          video.load();
        },
        startLoad: function () {},
        liveEdge: function () {
          var r = video.seekable;
          return r && r.length ? r.end(r.length - 1) - 3 : null;
        },
        setLevel: function () {},
      };
    }
    o.onUnsupported();
    return {
      destroy: function () {},
      startLoad: function () {},
      liveEdge: function () {
        return null;
      },
      setLevel: function () {},
    };
  }

  /** play(); when the browser refuses sound without a gesture, plays muted and offers an unmute button. */
  function start(media) {
    var unmute = document.querySelector('[data-unmute]');
    var p = media.play();
    if (!p || !p.catch) return;
    p.catch(function () {
      media.muted = true;
      media
        .play()
        .then(function () {
          if (!unmute) return;
          unmute.hidden = false;
          unmute.addEventListener(
            'click',
            function () {
              media.muted = false;
              unmute.hidden = true;
              media.focus();
            },
            { once: true },
          );
        })
        .catch(function () {
          statusLine('Press play to start.');
        });
    });
  }

  // ---- the player's own controls: big play button, LIVE pill, quality menu ----
  function setupControls(video, getCtl) {
    var stage = video.closest('[data-stage]') || video.parentNode;
    var bigplay = stage.querySelector('[data-bigplay]');
    var pill = stage.querySelector('[data-live-pill]');
    var quality = stage.querySelector('[data-quality]');
    var qualityBox = stage.querySelector('[data-quality-box]');
    var started = false;

    function showBigPlay(show) {
      if (bigplay) bigplay.hidden = !show;
    }
    // Click-to-play: the big button over the poster, and the picture itself while paused.
    function play() {
      var ctl = getCtl();
      if (ctl) ctl.startLoad();
      start(video);
    }
    if (bigplay) bigplay.addEventListener('click', play);
    video.addEventListener('playing', function () {
      started = true;
      showBigPlay(false);
    });
    video.addEventListener('pause', function () {
      if (!video.ended) showBigPlay(true);
    });

    function updatePill() {
      if (!pill) return;
      var ctl = getCtl();
      var edge = ctl && ctl.liveEdge();
      if (edge === null || edge === undefined || !started) {
        pill.hidden = true;
        return;
      }
      pill.hidden = false;
      var behind = edge - video.currentTime > BEHIND_S || video.paused;
      pill.classList.toggle('live-pill-behind', behind);
      pill.setAttribute('data-at-live', behind ? 'false' : 'true');
      pill.setAttribute('aria-label', behind ? 'Behind live: jump to the live edge' : 'Playing live');
    }
    if (pill) {
      pill.addEventListener('click', function () {
        var ctl = getCtl();
        var edge = ctl && ctl.liveEdge();
        if (edge !== null && edge !== undefined) video.currentTime = edge;
        if (video.paused) play();
        updatePill();
      });
      video.addEventListener('timeupdate', updatePill);
      video.addEventListener('pause', updatePill);
    }

    return {
      /** The renditions hls.js found: the quality menu offers them, tallest first, after Auto. */
      levels: function (levels) {
        if (!quality || !qualityBox) return;
        while (quality.options.length > 1) quality.remove(1);
        var order = levels
          .map(function (l, i) {
            return { i: i, height: l.height || 0, bitrate: l.bitrate || 0 };
          })
          .sort(function (a, b) {
            return b.height - a.height || b.bitrate - a.bitrate;
          });
        order.forEach(function (l) {
          var kbits = Math.round(l.bitrate / 1000) + ' kbit/s';
          var label = l.height ? l.height + 'p · ' + kbits : kbits;
          var option = document.createElement('option');
          option.value = String(l.i);
          option.textContent = label;
          quality.appendChild(option);
        });
        quality.value = '-1';
        qualityBox.hidden = levels.length < 2;
      },
      reset: function () {
        started = false;
        if (pill) pill.hidden = true;
      },
      init: function () {
        if (quality)
          quality.addEventListener('change', function () {
            var ctl = getCtl();
            if (ctl) ctl.setLevel(Number(quality.value));
          });
      },
    };
  }

  // ---- one channel ----
  function setupPlayer(video) {
    var src = video.getAttribute('data-src');
    var autoplay = video.getAttribute('data-autoplay') === '1';
    var ctl = null;
    var timer = null;
    var controls = setupControls(video, function () {
      return ctl;
    });
    controls.init();

    function load() {
      timer = null;
      ctl = attachHls(video, src, {
        autoStartLoad: autoplay,
        onLevels: controls.levels,
        onReady: function () {
          statusLine('');
          liveBadge('Live', true);
          if (autoplay || resumed) start(video);
        },
        onDenied: function () {
          ctl = null;
          statusLine('Access denied: this link has expired or is not valid here. Ask for a new link.');
        },
        onMissing: function () {
          ctl = null;
          statusLine('Not live right now. The player tries again every ' + RETRY_MS / 1000 + ' seconds.');
          timer = setTimeout(load, RETRY_MS);
        },
        onUnsupported: function () {
          statusLine('This browser cannot play HLS streams.');
        },
      });
    }

    video.addEventListener('play', function () {
      if (ctl) ctl.startLoad();
    });
    // The encoder stopped: nobody is stranded. The page says so over the last frame and starts again by itself
    // when the channel is live again.
    var waiting = false;
    var resumed = false;
    video.addEventListener('ended', function () {
      if (waiting) return;
      waiting = true;
      controls.reset();
      statusLine('Paused — it will continue here automatically.');
      liveBadge('Paused', false);
      whenLiveAgain(src, function () {
        return waiting;
      }).then(function () {
        waiting = false;
        resumed = true;
        statusLine('Back live — reconnecting…');
        if (ctl) ctl.destroy();
        load();
      });
    });
    window.addEventListener('pagehide', function () {
      waiting = false;
      if (timer) clearTimeout(timer);
      if (ctl) ctl.destroy();
    });
    statusLine('Loading…');
    load();
  }

  // ---- a space: the playlist player ----
  function setupPlaylist(root) {
    var items = Array.prototype.slice.call(root.querySelectorAll('a[data-item]'));
    var video = root.querySelector('video');
    var audio = root.querySelector('audio');
    if (!video || !audio || items.length === 0) return;
    var autoplay = root.getAttribute('data-autoplay') === '1';
    var current = -1;
    var ctl = null;

    function reset() {
      if (ctl) ctl.destroy();
      ctl = null;
      [video, audio].forEach(function (m) {
        m.pause();
        m.removeAttribute('src');
        m.load();
      });
    }

    function select(i, play) {
      reset();
      current = i;
      var item = items[i];
      items.forEach(function (a, n) {
        if (n === i) a.setAttribute('aria-current', 'true');
        else a.removeAttribute('aria-current');
      });
      var title = item.querySelector('.item-title');
      var name = title ? title.textContent : '';
      statusLine((play ? 'Playing ' : 'Ready: ') + name + ' (' + (i + 1) + ' of ' + items.length + ')');
      var kind = item.getAttribute('data-kind');
      var hls = item.getAttribute('data-hls');
      var progressive = item.getAttribute('data-progressive');
      var media = kind === 'audio' ? audio : video;
      video.hidden = media !== video;
      audio.hidden = media !== audio;
      media.setAttribute('aria-label', name);
      if (kind !== 'audio' && hls && (canUseHlsJs() || canPlayNativeHls(video))) {
        ctl = attachHls(video, hls, {
          autoStartLoad: play,
          onReady: function () {
            if (play) start(video);
          },
          onDenied: function () {
            ctl = null;
            statusLine('Access denied: this link has expired. Ask for a new link.');
          },
          onMissing: function () {
            // HLS failed: the progressive file may still play.
            ctl = null;
            video.src = progressive;
            if (play) start(video);
          },
          onUnsupported: function () {},
        });
      } else {
        media.src = progressive;
        if (play) start(media);
      }
    }

    items.forEach(function (a, i) {
      a.addEventListener('click', function (e) {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        select(i, true);
        (items[i].getAttribute('data-kind') === 'audio' ? audio : video).focus();
      });
    });
    [video, audio].forEach(function (m) {
      m.addEventListener('play', function () {
        if (ctl) ctl.startLoad();
      });
      m.addEventListener('ended', function () {
        if (current + 1 < items.length) select(current + 1, true);
        else statusLine('End of the playlist.');
      });
    });
    select(0, autoplay);
  }

  // ---- snippets ----
  function setupSnippets() {
    // Snippets name the appliance as the server saw it; behind a proxy the address in the viewer's bar is right.
    Array.prototype.forEach.call(document.querySelectorAll('textarea[data-base]'), function (ta) {
      var base = ta.getAttribute('data-base');
      var here = window.location.origin;
      if (base && here && base !== here) ta.value = ta.value.split(base).join(here);
    });
    Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
      button.addEventListener('click', function () {
        var field = document.getElementById(button.getAttribute('data-copy'));
        if (!field) return;
        var done = function () {
          button.textContent = 'Copied';
          setTimeout(function () {
            button.textContent = 'Copy';
          }, 2000);
        };
        var fallback = function () {
          field.focus();
          field.select();
          try {
            if (document.execCommand('copy')) done();
          } catch {
            // Selected: the viewer can copy with the keyboard.
          }
        };
        // navigator.clipboard exists only in secure contexts (https or localhost).
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll('time[data-local]'), function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d.getTime())) t.textContent = d.toLocaleString();
    });
  }

  // ---- live thumbnails on the portal's cards: hidden until there is one, fetched again every 10 s ----
  function setupThumbnails() {
    var thumbs = Array.prototype.slice.call(document.querySelectorAll('img[data-thumbnail]'));
    if (thumbs.length === 0) return;
    thumbs.forEach(function (img) {
      var base = img.getAttribute('src');
      img.setAttribute('data-base', base);
      img.addEventListener('load', function () {
        img.classList.remove('card-thumb-none');
      });
      img.addEventListener('error', function () {
        img.classList.add('card-thumb-none');
      });
      // An image that failed before this script ran fired its error already.
      if (img.complete && img.naturalWidth === 0) img.classList.add('card-thumb-none');
    });
    var timer = setInterval(function () {
      thumbs.forEach(function (img) {
        img.src = img.getAttribute('data-base') + '?t=' + Date.now();
      });
    }, THUMBNAIL_MS);
    window.addEventListener('pagehide', function () {
      clearInterval(timer);
    });
  }

  // ---- "Share and embed": collapsed behind its button ----
  function setupShare() {
    var toggle = document.querySelector('[data-share-toggle]');
    var panel = document.querySelector('[data-share-panel]');
    if (!toggle || !panel) return;
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      panel.hidden = !open;
    });
  }

  setupSnippets();
  setupShare();
  setupThumbnails();
  var player = document.querySelector('video[data-player]');
  if (player) setupPlayer(player);
  var playlist = document.querySelector('[data-playlist]');
  if (playlist) setupPlaylist(playlist);
})();
