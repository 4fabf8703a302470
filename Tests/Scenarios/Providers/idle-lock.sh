#!/usr/bin/env bash
# The provider locks its keyring by itself after a time without use, not through the Secret
# Service (KeePassXC's "lock after inactivity", KWallet's "close when idle"). A long-lived reader
# (StressProbe reader, no interaction) reads a stored key and misses a key never stored before
# the lock, each twice (the second read uses what the first remembered: the item's path, the
# collection's lock state); after the lock it must answer both as locked, never as "not found"
# or a timeout. Prints "before=..." (the four reads), "locked=yes|no" (the provider's own lock
# seen by another client) and "after=..." (the same reads again). On $SECURESTORE_PROVIDER,
# keepassxc or kwallet.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=idlelock
provider=${SECURESTORE_PROVIDER:?}

# Turns the provider's own idle lock on, after SECONDS (KeePassXC) or a minute (KWallet, whose
# setting counts minutes), and starts it anew on the same keyring: the idle time counts from
# there, as neither counts D-Bus calls as use (KeePassXC counts input events only).
idle_lock_after() {
  case $provider in
  keepassxc)
    sed -i "s/^LockDatabaseIdle=.*/LockDatabaseIdle=true\nLockDatabaseIdleSeconds=$1/" "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini" ;;
  kwallet)
    sed -i 's/^Close When Idle=.*/Close When Idle=true\nIdle Timeout=1/' "$XDG_CONFIG_HOME/kwalletrc" ;;
  *)
    echo "idle-lock: $provider has no idle lock of its own" >&2; exit 2 ;;
  esac
  restart_provider >/dev/null
}

# The reads must all happen before the lock: a machine too slow for that gets a longer idle
# time (KeePassXC), up to three tries.
idle=$(scaled 10)
for _ in 1 2 3; do
  idle_lock_after "$idle"
  printf kept | "$S" set token --app $app --no-interaction || { echo "set failed" >&2; exit 1; }
  coproc READER { "$PROBE" reader --app $app --timeout 10; }
  before="$(ask token) $(ask token) $(ask missing) $(ask missing)"
  [ "$before" = "kept kept nil nil" ] && break
  stop_reader
  idle=$((idle * 2))
  sed -i '/^LockDatabaseIdleSeconds=/d' "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini" 2>/dev/null
done
echo "before=$before"

# Another client sees the lock; the reader is left alone meanwhile.
locked=no
for _ in $(seq "$(scaled $((idle + 90)))"); do
  unlocked || { locked=yes; break; }
  sleep 1
done
echo "locked=$locked"
echo "after=$(ask token) $(ask token) $(ask missing) $(ask missing)"
reader_says stats
[ "$provider_now" != "$SECURESTORE_PROVIDER_PID" ] && kill "$provider_now" 2>/dev/null
stop_reader
true
