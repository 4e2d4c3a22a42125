#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on the D-Bus session bus,
# so tests, benches and the demo exercise the OS keychain for real (ARCHITECTURE.md §4).
#
#   scripts/with-keyring.sh <command> [args…]
#
# - Without a session bus, re-executes itself inside `dbus-run-session` (the bus, and with it the
#   daemon, goes away when the command ends).
# - Inside a session whose bus already has org.freedesktop.secrets (a desktop, or a nested call),
#   the command runs as is: we never replace somebody's keyring.
# - Otherwise starts gnome-keyring-daemon (secrets component only) with a throwaway keyring
#   directory and a random password on stdin, so the 'login' collection is created unlocked.
# The exit status is the command's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args…]" >&2
  exit 64
fi

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  if ! command -v dbus-run-session >/dev/null 2>&1; then
    echo "with-keyring: dbus-run-session not found (Debian/Ubuntu: apt-get install dbus-bin dbus-x11)" >&2
    exit 69
  fi
  exec dbus-run-session -- "$0" "$@"
fi

has_secrets() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true
}

if has_secrets; then
  exec "$@"
fi

if ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keyring: gnome-keyring-daemon not found (Debian/Ubuntu: apt-get install gnome-keyring)" >&2
  exit 69
fi

# The keyring lives in memory (/dev/shm) where there is one. The Secret Service client waits 2 s
# for an answer (dbus-secret-service's call timeout), then hangs up; gnome-keyring 42 aborts when
# it answers a caller that has gone ("aes_negotiate: assertion 'session' failed", then GLib-ERROR
# in g_variant_new). The clean-clone CI of 09f9d74 logged exactly that, and every later keychain
# call of that test file failed. What made the daemon slower than 2 s there is not known; it
# writes its file to disk on every change, and a throwaway keyring in memory takes the disk out.
keyring_base="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then keyring_base=/dev/shm; fi
state_dir="$(mktemp -d "$keyring_base/with-keyring.XXXXXX")"
chmod 700 "$state_dir"
daemon_pid=""
watch_pid=""
cleanup() {
  if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$state_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Throwaway password: only this run's keyring uses it, and the keyring is deleted afterwards.
password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p -m 700 "$state_dir/data" "$state_dir/control"
printf '%s' "$password" | XDG_DATA_HOME="$state_dir/data" \
  gnome-keyring-daemon --foreground --unlock --components=secrets --control-directory="$state_dir/control" \
  >"$state_dir/daemon.log" 2>&1 &
daemon_pid=$!
unset password

for _ in $(seq 1 100); do
  if has_secrets; then break; fi
  if ! kill -0 "$daemon_pid" 2>/dev/null; then break; fi
  sleep 0.05
done
if ! has_secrets; then
  echo "with-keyring: gnome-keyring-daemon did not register org.freedesktop.secrets:" >&2
  cat "$state_dir/daemon.log" >&2 || true
  exit 69
fi

# A daemon that goes away while the command runs leaves the bus to start a fresh one by D-Bus
# activation, with no unlocked 'login' keyring: the command then fails far from the cause. Say so
# at once, with the daemon's own log (it holds no secrets: the password went in on stdin).
(
  while kill -0 "$daemon_pid" 2>/dev/null; do sleep 1; done
  echo "with-keyring: gnome-keyring-daemon (pid $daemon_pid) exited while the command was running; its log:" >&2
  cat "$state_dir/daemon.log" >&2 2>/dev/null || true
) &
watch_pid=$!

set +e
"$@"
status=$?
set -e
exit "$status"
