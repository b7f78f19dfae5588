#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to what camhub needs. Idempotent: does nothing that is already done.
#   scripts/ensure-env.sh          what the tests need (`npm test`, CI): Debian packages, node_modules, and the
#                                  PostgreSQL / Redis / Mosquitto services on loopback.
#   scripts/ensure-env.sh --demo   what `npm run demo` needs for the whole experience (ffmpeg and GStreamer's RTSP
#                                  server for live streams and real snapshots). The demo brings its own broker,
#                                  database and Redis when none run, so no service is started; and where packages
#                                  cannot be installed (no root, no passwordless sudo) it says in one line what to
#                                  install and the demo still runs.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=test
[ "${1:-}" = --demo ] && mode=demo

log() { printf '[ensure-env] %s\n' "$*"; }

# How to run a command as root here: directly, through passwordless sudo, or (empty) not at all.
root_cmd=()
can_root=1
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    root_cmd=(sudo -n)
  elif [ "$mode" = test ] && command -v sudo >/dev/null; then
    root_cmd=(sudo) # the tests cannot run without these: let sudo ask for a password
  else
    can_root=0
  fi
fi
as_root() { "${root_cmd[@]}" "$@"; }

# --- Debian packages -------------------------------------------------------------------------------------
# ffmpeg/ffprobe: stream health probes, snapshot grabs, live video and clips. GStreamer RTSP server: the simulator's
# RTSP streams; timeoverlay/clockoverlay (the simulator's picture carries the time) ship in gstreamer1.0-x.
# chromium: the console's browser tests. mosquitto-clients: docs and manual checks. systemd: `systemd-analyze verify`
# of the units in deploy/. poppler-utils: pdftotext, to read the printed report back.
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
# The GStreamer bindings live in Debian's python3 (a pyenv shim on PATH may not have them).
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' >/dev/null 2>&1; then
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)
fi
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
gst-inspect-1.0 timeoverlay >/dev/null 2>&1 || need+=(gstreamer1.0-x)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v systemd-analyze >/dev/null || need+=(systemd)
  # unzip, sha256sum, openssl: the export test checks an archive the way police do, with stock tools only.
  command -v unzip >/dev/null || need+=(unzip)
  command -v openssl >/dev/null || need+=(openssl)
  command -v pdftotext >/dev/null || need+=(poppler-utils) # reads back the report's PDF
fi
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$can_root" = 1 ]; then
    log "installing Debian packages: ${need[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  elif [ "$mode" = demo ]; then
    log "for live streams, stream health and real snapshots install (then run the demo again): sudo apt-get install ${need[*]}"
  else
    log "WARNING: missing ${need[*]} and cannot install them here; the tests that need them will fail"
  fi
fi

# --- node_modules ----------------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.camhub-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  # The demo follows the newcomer's own `npm ci`; it installs only where nothing is installed at all.
  if [ "$mode" = test ] || [ ! -d node_modules ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > node_modules/.camhub-lock-hash
  fi
fi

[ "$mode" = demo ] && exit 0

# --- services --------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
wait_port() { for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done; return 1; }

if ! port_open 5432; then
  log "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_port 5432 || { log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1; }
fi
if ! port_open 6379; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_port 6379 || { log "Redis did not come up on 127.0.0.1:6379"; exit 1; }
fi
if ! port_open 1883; then
  log "starting Mosquitto"
  as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_port 1883 || { log "Mosquitto did not come up on 127.0.0.1:1883"; exit 1; }
fi
log "ready: PostgreSQL :5432, Redis :6379, Mosquitto :1883"
