#!/usr/bin/env bash
# One-step set-up on a fresh machine: system packages (when root with apt), then npm dependencies.
#   bash scripts/setup.sh            what `npm run serve` needs (ffmpeg, and libsrt for the SRT ingest)
#   bash scripts/setup.sh --test     also what the tests and `npm run bench` need (Chromium, nginx, wrk)
# Headless set-up skips Electron's binary download; desktop users run a plain `npm install` instead.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
# The SRT ingest loads libsrt (Debian's ffmpeg already depends on it; a non-Debian ffmpeg may not).
if command -v ldconfig >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libsrt'; then
  packages+=(libsrt1.5-gnutls)
fi
if [ "$want_test" = 1 ]; then
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -x /usr/sbin/nginx ] || packages+=(nginx)
  command -v wrk >/dev/null 2>&1 || packages+=(wrk)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${packages[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "setup: please install: ${packages[*]} (e.g. sudo apt-get install ${packages[*]})" >&2
    exit 1
  fi
fi

# No Electron window headless: don't download its binary. ffmpeg-static uses the system ffmpeg
# when one is installed (its install step would otherwise download a binary).
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
if [ -z "${FFMPEG_BIN:-}" ] && command -v ffmpeg >/dev/null 2>&1; then
  FFMPEG_BIN="$(command -v ffmpeg)"
  export FFMPEG_BIN
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
# The dashboard the admin listener serves to browsers (renderer/dist).
npm run --silent build:renderer
echo "setup: done"
