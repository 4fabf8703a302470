# shellcheck shell=bash
# shellcheck disable=SC2034  # provider_pid and failure are for the caller
# How each Secret Service provider is started headless and unlocked, inside a private bus
# (gnome-keyring with its password on stdin, KeePassXC offscreen with --pw-stdin on a database
# made beforehand, kwalletd5 started with its password handed over by start-kwalletd5.py; configs in
# $SECURESTORE_PROVIDERS_DIR). Sourced by
# provider-session, and by the test scenarios that restart a provider. Each start_* sets
# $provider_pid and returns non-zero, with a message in $failure, when the provider did not come up.

# Whether the default collection reports Locked=false.
unlocked() {
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/aliases/default \
    --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked 2>/dev/null | grep -q false
}

# Waits up to 15 s for it.
wait_unlocked() {
  for _ in $(seq 150); do unlocked && return 0; sleep 0.1; done
  return 1
}

# Waits up to TENTHS tenths of a second until the bus answers METHOD about
# org.freedesktop.secrets with exactly ANSWER: `until_the_bus_says METHOD ANSWER TENTHS`.
until_the_bus_says() {
  for _ in $(seq "$3"); do
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method "org.freedesktop.DBus.$1" org.freedesktop.secrets 2>/dev/null | grep -qx "$2" && return 0
    sleep 0.1
  done
  return 1
}

# Waits up to 5 s until nobody owns org.freedesktop.secrets (a stopped provider lets go late).
wait_name_released() { until_the_bus_says NameHasOwner "(false,)" 50; }

start_gnome_keyring() {
  # --foreground, then kill: a --daemonize-d daemon can outlive its bus. The password arrives
  # on stdin with no trailing newline; process substitution (not a pipe) keeps $! the daemon
  # itself, so it can be signalled and stopped.
  gnome-keyring-daemon --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
  provider_pid=$!
  gdbus wait --session --timeout 60 org.freedesktop.secrets || { failure="gnome-keyring-daemon did not take org.freedesktop.secrets"; return 1; }
}

# Opens the database made by provider-session ($HOME/secrets.kdbx) with its password, on Qt's
# $provider_platform: offscreen unless set (xcb shows KeePassXC's windows on $DISPLAY).
start_keepassxc() {
  # KeePassXC runs one instance per temporary folder (its lock and socket live there): sessions
  # side by side, and one killed without its clean-up, would each stop the next from starting.
  mkdir -p "$HOME/tmp"
  TMPDIR="$HOME/tmp" QT_QPA_PLATFORM="${provider_platform:-offscreen}" keepassxc --pw-stdin "$HOME/secrets.kdbx" < <(printf "%s\n" "$KEYRING_PASSWORD") >/dev/null 2>&1 &
  provider_pid=$!
  gdbus wait --session --timeout 60 org.freedesktop.secrets || { failure="keepassxc did not take org.freedesktop.secrets"; return 1; }
  # It owns the name before it has opened the database: wait until the collection is unlocked.
  wait_unlocked || { failure="keepassxc did not open its database"; return 1; }
}

# Serves the wallet made by a first start (see provider-session), unlocked.
# $provider_platform as for KeePassXC (xcb shows kwalletd5's unlock dialog on $DISPLAY).
start_kwallet() {
  provider_pid=$(QT_QPA_PLATFORM="${provider_platform:-offscreen}" python3 "$SECURESTORE_PROVIDERS_DIR/start-kwalletd5.py") || { failure="kwalletd5 did not start"; return 1; }
  gdbus wait --session --timeout 60 org.freedesktop.secrets || { failure="kwalletd5 did not take org.freedesktop.secrets"; return 1; }
  # It reports the open wallet as locked until asked to unlock; with "Prompt on Open=false"
  # the prompt completes without a dialog.
  local prompt
  for _ in $(seq 50); do
    unlocked && return 0
    prompt=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
      --method org.freedesktop.Secret.Service.Unlock "[\"/org/freedesktop/secrets/aliases/default\"]" 2>/dev/null |
      grep -o "objectpath [^)]*" | grep -o "/[^]'\"]*" | tail -1)
    [ -n "$prompt" ] && [ "$prompt" != / ] && gdbus call --session --dest org.freedesktop.secrets --object-path "$prompt" \
      --method org.freedesktop.Secret.Prompt.Prompt "" >/dev/null 2>&1
    sleep 0.1
  done
  unlocked || { failure="kwalletd5 kept the wallet locked"; return 1; }
}
