#!/usr/bin/env bash
# Creates (or rotates) a site's MQTT credentials: user name = site id, so the ACL line
# `pattern write camhub/v1/%u/agent` and `.../%u/cameras/#` confine the site to its own topics.
#
#   deploy/mosquitto/add-site.sh <site> [password]
#
# Without a password, a strong one is generated. The credentials are printed once and stored nowhere in
# clear text. Environment: MOSQUITTO_PASSWORD_FILE (default deploy/mosquitto/secrets/mosquitto.passwd),
# MOSQUITTO_FILE_GROUP (the broker's group, given the file: 1883, the container's, by default for the default
# file; set it to mosquitto on a Debian-package install).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $(basename "$0") <site> [password]"
site="$1"
# The contract's identifier rule: safe as a topic level and a URL path segment.
[[ "$site" =~ ^[a-z0-9][a-z0-9_-]{0,63}$ ]] ||
  die "invalid site id '$site': it must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, digits, - and _)"

if [ $# -eq 2 ]; then
  password="$2"
  check_password "$password"
else
  password="$(generate_password)"
fi

file="$(camhub_passwd_file)"
action="added"
if [ -f "$file" ] && grep -q "^${site}:" "$file"; then action="password changed"; fi
set_mosquitto_password "$file" "$site" "$password"

cat <<OUT
Site $site: MQTT user $action in $file
  username: $site
  password: $password
Put these in the site's agent config (mqtt.username / mqtt.password, or CAMHUB_MQTT_PASSWORD): this is the
only time the password is shown.
OUT
reload_hint
