#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on the D-Bus session bus,
# so tests, benches and the demo exercise the OS keychain for real (ARCHITECTURE.md §4).
#
#   scripts/with-keyring.sh <command> [args…]
#
# - Without a session bus, opens a private one (`dbus-run-session`) whose configuration puts this
#   run's own service file for org.freedesktop.secrets first: D-Bus starts gnome-keyring-daemon
#   (secrets component only) on a throwaway keyring, unlocked with a random password, and starts it
#   again on the same keyring, unlocked, if it goes away mid-run (see "Restarted" below).
# - Inside a session whose bus already has org.freedesktop.secrets (a desktop, or a nested call),
#   the command runs as is: we never replace somebody's keyring.
# - Inside a session bus without one, starts the daemon once, beside the command.
# The exit status is the command's.
#
# Restarted: the Secret Service client waits 2 s for an answer (dbus-secret-service's call
# timeout), then hangs up; gnome-keyring 42 aborts when it answers a caller that has gone
# ("aes_negotiate: assertion 'session' failed", then GLib-ERROR in g_variant_new). Clean-clone CI
# logs showed exactly that under the suite's load. The bus then activated the system's daemon,
# which has no login keyring: reads found nothing (a profile "cannot be opened on this PC") and
# writes failed, for the rest of the file. Now the next call starts this run's daemon again on the
# same keyring file, with every entry, and the script says so with the daemon's log.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args…]" >&2
  exit 64
fi

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "with-keyring: $1 not found (Debian/Ubuntu: apt-get install $2)" >&2
    exit 69
  fi
}

# A throwaway keyring: in memory (/dev/shm) where there is one, so the daemon's write on every
# change never waits on a busy disk. Deleted when the command ends.
new_state_dir() {
  local base="${TMPDIR:-/tmp}"
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
  local dir
  dir="$(mktemp -d "$base/with-keyring.XXXXXX")"
  chmod 700 "$dir"
  mkdir -p -m 700 "$dir/data" "$dir/control" "$dir/services"
  # Throwaway password: only this run's keyring uses it. It stays in a 0600 file beside the keyring
  # so that a restarted daemon unlocks the same keyring; both go when the command ends.
  (
    umask 077
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/password"
  )
  printf '%s' "$dir"
}

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  need dbus-run-session 'dbus-bin dbus-x11'
  need gnome-keyring-daemon gnome-keyring
  state_dir="$(new_state_dir)"
  cleanup() {
    # The daemons D-Bus started (each start wrote its pid); normally they end with the bus.
    if [ -f "$state_dir/pids" ]; then
      while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$state_dir/pids"
    fi
    rm -rf "$state_dir"
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # Started by D-Bus activation: at the first call, and again after the daemon went away. Its
  # stderr is the bus's, which is the command's: the restart is said where the run's output shows it.
  cat >"$state_dir/start-daemon.sh" <<EOF
#!/bin/sh
state='$state_dir'
n=\$(cat "\$state/starts" 2>/dev/null || echo 0)
n=\$((n + 1))
echo "\$n" >"\$state/starts"
if [ "\$n" -gt 1 ]; then
  echo "with-keyring: gnome-keyring-daemon went away mid-run; started it again on the same keyring (start \$n). Its log so far:" >&2
  cat "\$state/daemon.log" >&2 2>/dev/null || true
fi
echo "\$\$" >>"\$state/pids"
# Ahead of the test processes for the CPU where allowed (root, as in CI), so that an answer within
# the client's 2 s is likelier on a loaded machine; elsewhere nice says why not and runs it as is.
XDG_DATA_HOME="\$state/data" exec nice -n -10 gnome-keyring-daemon --foreground --unlock --components=secrets \\
  --control-directory="\$state/control" <"\$state/password" >>"\$state/daemon.log" 2>&1
EOF
  chmod 700 "$state_dir/start-daemon.sh"
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sh %s/start-daemon.sh\n' "$state_dir" \
    >"$state_dir/services/org.freedesktop.secrets.service"
  # The standard session configuration, with this run's service directory first: the first
  # directory that names a service wins (dbus-daemon(1), <servicedir>).
  cat >"$state_dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <servicedir>$state_dir/services</servicedir>
  <include>/usr/share/dbus-1/session.conf</include>
</busconfig>
EOF
  set +e
  WITH_KEYRING_STATE="$state_dir" dbus-run-session --config-file="$state_dir/bus.conf" -- "$0" "$@"
  status=$?
  set -e
  exit "$status"
fi

has_secrets() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true
}

if has_secrets; then
  unset WITH_KEYRING_STATE
  exec "$@"
fi

# Our own private bus (above): D-Bus starts the daemon from our service file. The reply comes once
# the daemon owns the name.
if [ -n "${WITH_KEYRING_STATE:-}" ] && [ -f "$WITH_KEYRING_STATE/start-daemon.sh" ]; then
  state_dir="$WITH_KEYRING_STATE"
  unset WITH_KEYRING_STATE
  if ! dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.StartServiceByName string:org.freedesktop.secrets uint32:0 >/dev/null || ! has_secrets; then
    echo "with-keyring: gnome-keyring-daemon did not register org.freedesktop.secrets:" >&2
    cat "$state_dir/daemon.log" >&2 2>/dev/null || true
    exit 69
  fi
  exec "$@"
fi

# Somebody's session bus without a Secret Service: one daemon beside the command, said at once if
# it goes away (the bus cannot be taught to start ours again).
need gnome-keyring-daemon gnome-keyring
state_dir="$(new_state_dir)"
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

XDG_DATA_HOME="$state_dir/data" gnome-keyring-daemon --foreground --unlock --components=secrets \
  --control-directory="$state_dir/control" <"$state_dir/password" >"$state_dir/daemon.log" 2>&1 &
daemon_pid=$!

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
