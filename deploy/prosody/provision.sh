#!/bin/sh
# Kept for existing runbooks: a thin wrapper over the supported tool, clinic-admin provision
# (admin/README.md, docs/deploy/server.md). These two are the same:
#
#   provision.sh [-c /etc/prosody/prosody.cfg.lua] users.csv
#   npx clinic-admin provision users.csv --prosody-config /etc/prosody/prosody.cfg.lua
#
# users.csv lines: jid,display name,role,team. New accounts get a random first password, written
# once to ./initial-passwords.txt (mode 600); existing accounts are left alone; the groups file
# (groups_file in the config) is rewritten. Needs Node.js 20 and this clone's node_modules.
set -eu
CONFIG=/etc/prosody/prosody.cfg.lua
if [ "${1:-}" = "-c" ]; then CONFIG=${2:?usage: provision.sh [-c config] users.csv}; shift 2; fi
CSV=${1:?usage: provision.sh [-c config] users.csv}
command -v node > /dev/null || { echo "provision.sh runs clinic-admin, which needs Node.js 20 (docs/deploy/server.md)" >&2; exit 1; }
# This clone, wherever the script is called from (and through symbolic links).
REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
exec node "$REPO/admin/bin/clinic-admin.mjs" provision "$CSV" --prosody-config "$CONFIG"
