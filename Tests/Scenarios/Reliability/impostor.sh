#!/usr/bin/env bash
# The daemon dies and an impostor takes its name, answering every call wrongly.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf v | "$S" set token --app impostor-test
impersonate() {
  kill_provider
  "$PROBE" impostor > "$HOME/impostor.txt" &
  impostor=$!
  gdbus wait --session --timeout 5 org.freedesktop.secrets
}
probe_meeting impersonate true down --app impostor-test --key token --count 3 --timeout "$(scaled 3)"
echo "probe-exit=$?"
cat "$HOME/impostor.txt"
kill "$impostor"
