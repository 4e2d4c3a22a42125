#!/bin/sh
# Provision Clinic Messenger accounts and the shared-roster directory on a Prosody server.
#
#   provision.sh [-c /etc/prosody/prosody.cfg.lua] users.csv
#
# users.csv lines: jid,display name,role,team      (role: physician|nurse|reception|admin|staff or empty)
# New accounts get a random password, written once to ./initial-passwords.txt (mode 600) for
# hand-over; existing accounts are left alone. The groups file (groups_file in the config) is
# rewritten from the CSV: one PUBLIC group per role (the whole clinic sees each other with
# their role) and an ordinary group per team. Keep the role group names in step with
# main/xmpp/roles.ts.
set -eu
CONFIG=/etc/prosody/prosody.cfg.lua
if [ "${1:-}" = "-c" ]; then CONFIG=$2; shift 2; fi
CSV=${1:?usage: provision.sh [-c config] users.csv}

GROUPS_FILE=$(sed -n 's/^groups_file = "\([^"]*\)".*/\1/p' "$CONFIG")
[ -n "$GROUPS_FILE" ] || { echo "no groups_file in $CONFIG" >&2; exit 1; }

role_group() {
  case "$1" in
    physician) echo "Physicians" ;; nurse) echo "Nurses" ;; reception) echo "Reception" ;;
    admin) echo "Administration" ;; staff) echo "Staff" ;; "") echo "Clinic" ;;
    *) echo "unknown role '$1'" >&2; exit 1 ;;
  esac
}

umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: > "$TMP/public"; : > "$TMP/teams"
while IFS=, read -r jid name role team; do
  case "$jid" in ''|\#*) continue ;; esac
  case "$name" in *=*|*\[*|*\]*) echo "display name for $jid must not contain = [ ]" >&2; exit 1 ;; esac
  user=${jid%@*}; host=${jid#*@}
  if ! prosodyctl --config "$CONFIG" user list "$host" 2>/dev/null | grep -qx "$jid"; then
    pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    prosodyctl --config "$CONFIG" register "$user" "$host" "$pw"
    echo "$jid $pw" >> ./initial-passwords.txt
    echo "created $jid"
  fi
  printf '%s\t%s=%s\n' "$(role_group "$role")" "$jid" "$name" >> "$TMP/public"
  [ -z "$team" ] || printf '%s\t%s=%s\n' "$team" "$jid" "$name" >> "$TMP/teams"
done < "$CSV"

{
  for g in $(cut -f1 "$TMP/public" | sort -u); do
    echo "[+$g]"; awk -F'\t' -v g="$g" '$1 == g { print $2 }' "$TMP/public"; echo
  done
  cut -f1 "$TMP/teams" | sort -u | while IFS= read -r g; do
    echo "[$g]"; awk -F'\t' -v g="$g" '$1 == g { print $2 }' "$TMP/teams"; echo
  done
} > "$TMP/groups"
# Debian's Prosody runs as user prosody: a groups file it cannot read is an empty directory.
if getent group prosody > /dev/null; then
  install -m 0640 -g prosody "$TMP/groups" "$GROUPS_FILE"
else
  install -m 0644 "$TMP/groups" "$GROUPS_FILE"
fi
# mod_groups reads the file when it loads.
prosodyctl --config "$CONFIG" reload || echo "reload failed: restart prosody to apply the directory" >&2
