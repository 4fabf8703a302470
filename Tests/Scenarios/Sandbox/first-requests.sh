#!/usr/bin/env bash
# Twenty processes in a sandbox, each making one call; then the portal's requests.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
start_portal_monitor
for run in $(seq 20); do
  in_sandbox $app "$S" get token --app first-request >/dev/null 2>&1; echo "run=$run status=$?"
done
portal_requests
