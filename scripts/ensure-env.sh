#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to what camhub's tests need: Debian packages, node_modules, and the
# PostgreSQL / Redis / Mosquitto services on loopback. Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[ensure-env] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

# --- Debian packages -------------------------------------------------------------------------------------
# ffmpeg/ffprobe: stream health probes and snapshot grabs. GStreamer RTSP server: the simulator's RTSP streams.
# chromium: the console's browser tests. mosquitto-clients: docs and manual checks.
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v chromium >/dev/null || need+=(chromium)
# The GStreamer bindings live in Debian's python3 (a pyenv shim on PATH may not have them).
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' >/dev/null 2>&1; then
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)
fi
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
command -v systemd-analyze >/dev/null || need+=(systemd)
# timeoverlay/clockoverlay (the simulator's picture carries the time) ship in gstreamer1.0-x, not in plugins-base.
gst-inspect-1.0 timeoverlay >/dev/null 2>&1 || need+=(gstreamer1.0-x)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    log "installing Debian packages: ${need[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    log "WARNING: missing ${need[*]} and no apt-get; tests that need them will be skipped or fail"
  fi
fi

# --- node_modules ----------------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.camhub-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.camhub-lock-hash
fi

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
