#!/usr/bin/env bash
# Creates (or rotates) the hub's MQTT credentials. The user name is fixed, camhub.hub, because the ACL file
# grants read access to that name; its '.' keeps it out of the site id space.
#
#   deploy/mosquitto/add-hub-user.sh [password]
#
# Without a password, a strong one is generated. Environment as for add-site.sh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly HUB_USER="camhub.hub"
[ $# -le 1 ] || die "usage: $(basename "$0") [password]"

if [ $# -eq 1 ]; then
  password="$1"
  check_password "$password"
else
  password="$(generate_password)"
fi

file="$(camhub_passwd_file)"
set_mosquitto_password "$file" "$HUB_USER" "$password"

cat <<OUT
Hub MQTT user written to $file
  username: $HUB_USER
  password: $password
Set MQTT_USERNAME=$HUB_USER and MQTT_PASSWORD in the hub's environment (.env for compose, /etc/camhub/hub.env
for systemd): this is the only time the password is shown.
OUT
reload_hint
