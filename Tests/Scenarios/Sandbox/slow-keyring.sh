#!/usr/bin/env bash
# Six first calls in a sandbox, the desktop's keyring paused for 1-5 s under each.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
start_portal_monitor
for run in 1 2 3 4 5 6; do
  kill -STOP "$SECURESTORE_PROVIDER_PID"
  ( sleep "$(( 1 + RANDOM % 4 )).$(( RANDOM % 10 ))"; kill -CONT "$SECURESTORE_PROVIDER_PID" ) &
  start=$(date +%s%N)
  in_sandbox $app "$S" get token --app slow-portal >/dev/null 2>"$HOME/err"; status=$?
  wait $!
  echo "run=$run status=$status ms=$(( ($(date +%s%N) - start) / 1000000 )) $(grep -o 'ERR_[A-Z_]*' "$HOME/err" | head -1)"
done
portal_requests
