# Shared by add-site.sh and add-hub-user.sh: password file location, password generation, mosquitto_passwd.
# Sourced, not run.

# Where the broker's password file is. The compose deployment mounts deploy/mosquitto/secrets/ into the
# broker; a Debian-package install points MOSQUITTO_PASSWORD_FILE at /etc/mosquitto/camhub.passwd.
camhub_passwd_file() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  printf '%s\n' "${MOSQUITTO_PASSWORD_FILE:-$here/secrets/mosquitto.passwd}"
}

die() {
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
  exit 2
}

# 32 characters from 24 random bytes (192 bits), URL-safe so the password can sit in an mqtt:// URL.
generate_password() {
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

check_password() {
  local password="$1"
  [ "${#password}" -ge 16 ] || die "the password must be at least 16 characters (leave it out to generate one)"
  case "$password" in
    *[[:space:]]* | *:*) die "the password must not contain white space or ':'" ;;
  esac
}

# Adds the user or changes its password. The file is created on first use, readable by its owner and group
# only: mosquitto 2 reads it after dropping privileges, so the group must be the broker's.
set_mosquitto_password() {
  local file="$1" user="$2" password="$3" dir
  dir="$(dirname "$file")"
  mkdir -p "$dir"
  if [ ! -e "$file" ]; then
    (umask 077 && : >"$file")
  fi
  if command -v mosquitto_passwd >/dev/null 2>&1; then
    mosquitto_passwd -b "$file" "$user" "$password"
  elif command -v docker >/dev/null 2>&1; then
    # No Mosquitto on this host (a compose install): use the broker image's own tool.
    docker run --rm --user "$(id -u):$(id -g)" -v "$dir:/work" eclipse-mosquitto:2 \
      mosquitto_passwd -b "/work/$(basename "$file")" "$user" "$password"
  else
    die "neither mosquitto_passwd (apt install mosquitto) nor docker is available"
  fi
  chmod 0640 "$file"
  local group="${MOSQUITTO_FILE_GROUP:-}"
  # The compose file mounts the default location into the eclipse-mosquitto image, whose broker runs as
  # gid 1883; anywhere else the caller says which group the broker runs as.
  if [ -z "$group" ] && [ -z "${MOSQUITTO_PASSWORD_FILE:-}" ]; then group=1883; fi
  if [ -n "$group" ]; then
    chgrp "$group" "$file" ||
      die "could not give $file to group $group (the broker's); run as root or set MOSQUITTO_FILE_GROUP"
  fi
}

reload_hint() {
  cat <<'HINT'
The broker reads the password file again on SIGHUP:
  docker compose kill -s HUP mosquitto      (compose)
  systemctl reload mosquitto                (Debian package)
HINT
}
