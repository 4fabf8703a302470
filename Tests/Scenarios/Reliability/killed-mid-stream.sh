#!/usr/bin/env bash
# The daemon is killed while the probe writes, and a new one started on the same keyring files.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
"$PROBE" writes --app killed-test --seconds 120 --timeout 3 --resume-file "$HOME/resume" \
  --ready-file "$HOME/ready" --felt-file "$HOME/felt" > "$HOME/probe.txt" &
writer=$!
# Writes run until resumed; the kill comes once one has worked, and the new daemon once one has
# failed (a slow probe's retries would otherwise reach the new one).
for _ in $(seq 600); do [ -e "$HOME/ready" ] && break; sleep 0.1; done
kill -KILL "$SECURESTORE_PROVIDER_PID"
for _ in $(seq 600); do [ -e "$HOME/felt" ] && break; sleep 0.1; done
start_new_daemon
wait_unlocked || echo "the new daemon never unlocked its keyring"
touch "$HOME/resume"
wait $writer; echo "probe-exit=$?"
cat "$HOME/probe.txt"
kill -KILL "$replacement"
