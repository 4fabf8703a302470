# shellcheck shell=bash
# What every scenario shares; each sources this first. Scenarios run inside a private session
# (Scripts/with-secret-service, and Scripts/with-display or Scripts/with-sandbox around it) with:
#   $SECURESTORE                the command, also as $S
#   $PROBE                      the StressProbe test program
#   $SECURESTORE_BIN            the build's executables
#   $SECURESTORE_PROVIDER_PID   the provider's daemon; $KEYRING_PASSWORD gnome-keyring's password
set -u
# shellcheck disable=SC2034  # for the scenarios that source this
S=$SECURESTORE
# How each provider starts (restart_provider), and `unlocked`.
# shellcheck source=Scripts/lib/providers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../Scripts/lib/providers.sh"

# Locks GNOME Keyring's login keyring, as the desktop's screen lock does.
lock_login() {
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null
}

# A long-lived StressProbe reader, started by the scenario as
# `coproc READER { "$PROBE" reader --app APP --timeout 10; }`: `reader_says LINE` sends LINE and
# prints the reader's one-line answer ("!no-answer" after 60 s); `ask KEY` prints the answer to
# "get KEY" without the key (its value, nil, or !ERR_CODE); `stop_reader` ends it.
# shellcheck disable=SC2154  # READER and READER_PID come from the scenario's coproc
reader_says() { echo "$1" >&"${READER[1]}"; local answer; IFS= read -r -t 60 answer <&"${READER[0]}" || answer="!no-answer"; echo "$answer"; }
ask() { local answer; answer=$(reader_says "get $1"); echo "${answer#"$1 "}"; }
# shellcheck disable=SC2154
stop_reader() { local pid=$READER_PID; eval "exec ${READER[1]}>&-"; wait "$pid"; }
# Prints KEY's value in APP as the command reads it: the value, "none" when the key has no value
# (exit 1), "!STATUS" for any other failure: `value_of KEY APP`.
value_of() {
  local value status
  value=$("$S" get "$1" --app "$2" 2>/dev/null); status=$?
  case $status in 0) echo "$value" ;; 1) echo none ;; *) echo "!$status" ;; esac
}

# Runs CMD in APP's sandbox: `in_sandbox APP CMD...` (Scripts/with-sandbox --host only).
in_sandbox() { "$SECURESTORE_IN_SANDBOX" "$@"; }

# SECONDS times the run's slowness factor (SECURESTORE_TEST_TIME_SCALE=5 under a sanitizer), for
# limits that bound a hang rather than measure speed.
scaled() { awk -v s="$1" -v f="${SECURESTORE_TEST_TIME_SCALE:-1}" 'BEGIN { printf "%d", s * f }'; }

# Waits up to SECONDS for the unlock dialog ($UNLOCK_DIALOG, Scripts/with-display), times the
# run's slowness factor: under a sanitizer (SECURESTORE_TEST_TIME_SCALE=5) the daemon's activation
# and the instrumented command's first call come that much later.
wait_for_dialog() {
  "$UNLOCK_DIALOG" wait "$(awk -v s="$1" -v f="${SECURESTORE_TEST_TIME_SCALE:-1}" 'BEGIN { printf "%d", s * f }')" >/dev/null
}

# The title of the provider's own unlock dialog, as a regular expression: `provider_dialog`.
provider_dialog() {
  case $SECURESTORE_PROVIDER in
  keepassxc) echo '^Unlock Database - KeePassXC$' ;;
  kwallet) echo '^KDE Wallet Service$' ;;
  *) echo "no dialog of its own: $SECURESTORE_PROVIDER" >&2; return 1 ;;
  esac
}

# A provider's own windows (KeePassXC's, kwalletd5's), with the provider on the display
# (Scripts/with-display, `provider_platform=xcb restart_provider`): `windows_named REGEX` lists
# the visible ones whose title matches; `wait_for_window REGEX SECONDS` waits up to SECONDS
# (times the slowness factor) for one and prints its id once drawn.
windows_named() { xdotool search --onlyvisible --name "$1" 2>/dev/null || true; }
wait_for_window() {
  local id
  for _ in $(seq "$(scaled "$(( $2 * 10 ))")"); do
    id=$(windows_named "$1" | head -n 1)
    if [ -n "$id" ]; then sleep 0.5; echo "$id"; return 0; fi   # let it finish drawing
    sleep 0.1
  done
  return 1
}

# `timed CMD...` prints "STATUS MILLISECONDS"; CMD's standard error is left in $HOME/err.
timed() {
  local start status
  start=$(date +%s%N)
  "$@" >/dev/null 2>"$HOME/err"; status=$?
  echo "$status $(( ($(date +%s%N) - start) / 1000000 ))"
}

# Kills the provider at once, as a crash would, and waits until the bus has let go of its name,
# so that the next call reaches a new daemon (or nobody), never the dead one: `kill_provider`.
kill_provider() { kill -KILL "$SECURESTORE_PROVIDER_PID"; wait_name_released; }

# Waits up to 10 s (times the slowness factor) until process PID owns org.freedesktop.secrets, as
# a daemon started with --replace comes to: `wait_for_owner PID`.
wait_for_owner() { until_the_bus_says GetConnectionUnixProcessID "(uint32 $1,)" "$(scaled 100)"; }

# Starts a new, unlocked gnome-keyring-daemon on the same keyring files as $replacement (for the
# scenario to kill at its end) and prints "restarted" once it serves.
start_new_daemon() {
  gnome-keyring-daemon --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
  # shellcheck disable=SC2034  # for the scenario to kill
  replacement=$!
  gdbus wait --session --timeout 5 org.freedesktop.secrets && echo "restarted"
}

# Prints the item path of KEY of application APP: `item_path APP KEY`.
item_path() {
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.SearchItems "{'application': '$1', 'key': '$2'}" |
    grep -o "/org/freedesktop/secrets/collection/[^']*" | head -1
}

# `probe_meeting HARM WARM PROBE-ARGUMENTS...` runs the probe after the function HARM, or, with
# WARM true, lets it make one call first (which opens its connection) and does the harm while
# it waits: a long-running app meets faults that way. Returns the probe's status.
probe_meeting() {
  local harm=$1 warm=$2 probe_pid
  shift 2
  if [ "$warm" != true ]; then "$harm"; "$PROBE" "$@"; return; fi
  "$PROBE" "$@" --warm --ready-file "$HOME/ready" --resume-file "$HOME/resume" &
  probe_pid=$!
  for _ in $(seq 100); do [ -e "$HOME/ready" ] && break; sleep 0.1; done
  "$harm"
  touch "$HOME/resume"
  wait $probe_pid
}

# Another client's writes, as secret-tool makes them, to items of SecureStore's schema (service
# "app"): `store_item APP KEY VALUE ACCESSIBLE` and `clear_item APP KEY`. Each is tried three
# times: secret-tool's own transfer sessions with KWallet fail now and then, as anyone's do.
store_item() {
  for _ in 1 2 3; do
    printf %s "$3" | secret-tool store --label=t xdg:schema dev.securestore.Item application "$1" service app \
      key "$2" accessible "$4" synchronizable false && return
  done
  return 1
}
clear_item() {
  for _ in 1 2 3; do
    secret-tool clear xdg:schema dev.securestore.Item application "$1" service app key "$2" synchronizable false && return
  done
  return 1
}

# Another client's edit of an item's attributes over D-Bus (what Seahorse does), giving the item
# at PATH the key NEW-KEY: `edit_key APP PATH NEW-KEY ACCESSIBLE`.
edit_key() {
  gdbus call --session --dest org.freedesktop.secrets --object-path "$2" \
    --method org.freedesktop.DBus.Properties.Set org.freedesktop.Secret.Item Attributes \
    "<{'xdg:schema': 'dev.securestore.Item', 'application': '$1', 'service': 'app', 'key': '$3', 'accessible': '$4', 'synchronizable': 'false'}>" >/dev/null
}

# Records the messages on the session bus that match RULES (dbus-monitor's match rules) in
# $HOME/monitor, from when it returns: `start_monitor RULES...`. `stop_monitor` stops it once it
# has recorded everything sent before: a marker call of the script's own, sent last, must be in
# the record (a call whose reply its caller waited for has reached the bus before the marker).
start_monitor() {
  dbus-monitor --session "$@" "type='method_call',interface='org.freedesktop.DBus',member='NameHasOwner'" > "$HOME/monitor" 2>&1 &
  monitor=$!
  until_recorded ready
}
until_recorded() {
  local marker="org.securestore.Marker.$1$$"
  for _ in $(seq 200); do
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner "$marker" >/dev/null 2>&1
    grep -q "$marker" "$HOME/monitor" && return 0
    sleep 0.05
  done
  echo "never recorded: $marker" >&2
}
stop_monitor() { until_recorded end; kill "$monitor"; }
# Waits up to 30 s (times the slowness factor) until the record holds N `Prompt.Prompt` calls.
wait_for_prompt_calls() {
  for _ in $(seq "$(scaled 300)"); do [ "$(grep -cE 'member=Prompt$' "$HOME/monitor")" -ge "$1" ] && return 0; sleep 0.1; done
  return 1
}
# Waits up to 30 s (times the slowness factor) until the record holds the answers to N calls of
# the method MEMBER: `wait_for_answers MEMBER N`. The monitor must record the calls and every
# method return and error (an answer is known by its destination and reply serial).
wait_for_answers() {
  for _ in $(seq "$(scaled 300)"); do [ "$(answers "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
answers() {
  awk -v member="member=$1" '
    function field(name,  i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2) }
    /^method call / && $NF == member { calls[field("sender") " " field("serial")] = 1 }
    /^(method return|error) / && ((field("destination") " " field("reply_serial")) in calls) { answered++ }
    END { print answered + 0 }' "$HOME/monitor"
}

# Records the Secret portal's requests: `portal_requests` prints "requests=N" and, for a
# failure's message, "trace: TIME MEMBER" for each request sent and each answer (`Response`).
start_portal_monitor() {
  start_monitor "interface='org.freedesktop.portal.Secret',member='RetrieveSecret'" "interface='org.freedesktop.portal.Request',member='Response'"
}
portal_requests() {
  stop_monitor
  echo "requests=$(grep -c 'member=RetrieveSecret' "$HOME/monitor")"
  grep -E 'member=(RetrieveSecret|Response)' "$HOME/monitor" | sed -E 's/^.* time=([0-9.]+) .*member=([A-Za-z]+).*$/trace: \1 \2/'
}

# Records the calls that can show the keyring's unlock dialog: `unlock_requests` prints
# "unlock requests=N", the calls of Service.Unlock and Prompt.Prompt made since
# `start_unlock_monitor` (no Prompt call, no dialog).
start_unlock_monitor() {
  start_monitor "type='method_call',interface='org.freedesktop.Secret.Service',member='Unlock'" \
    "type='method_call',interface='org.freedesktop.Secret.Prompt',member='Prompt'"
}
unlock_requests() {
  stop_monitor
  echo "unlock requests=$(grep -cE 'member=(Unlock|Prompt)$' "$HOME/monitor")"
}

# Starts the CredentialFlow example's server in $HOME, its password in `password` (first
# "first"): $url is its address, $server its process.
# shellcheck disable=SC2034  # for the scenario
start_credential_flow_server() {
  cd "$HOME" || exit 1
  printf first > password
  "$SECURESTORE_BIN/CredentialFlow" serve --password-file password --port-file port &
  server=$!
  for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
  url="http://127.0.0.1:$(cat port)"
}

# Starts `StressProbe watch --app APP` in $HOME as $watcher, its events in $HOME/events, and
# waits until it watches.
# shellcheck disable=SC2034  # for the scenario
start_watcher() {
  cd "$HOME" || exit 1
  : > events
  "$PROBE" watch --app "$1" >> events 2>&1 &
  watcher=$!
  for _ in $(seq "$(scaled 600)"); do grep -qx watching events && return; sleep 0.1; done
  echo "never: watching" >> events
}
# Waits up to 60 s (times the slowness factor, see scaled) for the watcher's event line EVENT, or notes
# "never: EVENT": `wait_for_event EVENT`.
wait_for_event() { for _ in $(seq "$(scaled 600)"); do grep -qx "$1" events && return; sleep 0.1; done; echo "never: $1" >> events; }
# Like wait_for_event, for an EVENT after the latest stage line: `wait_for_stage_event EVENT`.
wait_for_stage_event() {
  for _ in $(seq "$(scaled 600)"); do
    awk -v e="$1" '/^== / { seen = 0 } $0 == e { seen = 1 } END { exit !seen }' events && return
    sleep 0.1
  done
  echo "never: $1" >> events
}
# Starts the stage NAME of the watcher's events (an "== NAME" line): `event_stage NAME`.
event_stage() { echo "== $1" >> events; }

# Locks the default collection through the Secret Service, as the desktop would (running the
# prompt KeePassXC answers with), and waits up to 5 s until it reports itself locked.
lock_default() {
  local prompt
  prompt=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/aliases/default']" |
    grep -o "/org/freedesktop/secrets/prompt/[^']*")
  [ -n "$prompt" ] && gdbus call --session --dest org.freedesktop.secrets --object-path "$prompt" \
    --method org.freedesktop.Secret.Prompt.Prompt "" >/dev/null
  for _ in $(seq 50); do unlocked || return 0; sleep 0.1; done
}

# Stops the provider ($provider_now, at first $SECURESTORE_PROVIDER_PID) and starts a new one on the
# same keyring files, unlocked, as $provider_now; prints "restarted" once it serves. KWallet keeps a
# write's secret only in memory for a few seconds (its attributes at once), so its wallet is
# closed first, which saves it.
provider_now=${SECURESTORE_PROVIDER_PID:-}
restart_provider() {
  if [ "${SECURESTORE_PROVIDER:-gnome-keyring}" = kwallet ]; then lock_default; fi
  kill "$provider_now"
  for _ in $(seq 50); do kill -0 "$provider_now" 2>/dev/null || break; sleep 0.1; done
  wait_name_released
  case ${SECURESTORE_PROVIDER:-gnome-keyring} in
  kwallet) start_kwallet ;;
  keepassxc) start_keepassxc ;;
  *) start_gnome_keyring ;;
  esac || { echo "the provider did not come back: $failure" >&2; return 1; }
  provider_now=$provider_pid
  echo "restarted"
}
