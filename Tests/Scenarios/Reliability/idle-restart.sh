#!/usr/bin/env bash
# The daemon is replaced while the probe's connection is idle.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'before the restart' | "$S" set token --app idle-restart-test
replace() { kill -KILL "$SECURESTORE_PROVIDER_PID"; sleep 0.5; start_new_daemon; }
probe_meeting replace true idle-restart --app idle-restart-test --timeout 5
echo "probe-exit=$?"
kill -KILL "$replacement"
