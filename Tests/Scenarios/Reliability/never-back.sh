#!/usr/bin/env bash
# The daemon dies for good: `never-back.sh WARM`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf v | "$S" set token --app gone-test
kill_daemon() { kill -KILL "$SECURESTORE_PROVIDER_PID"; sleep 0.3; }
probe_meeting kill_daemon "$1" down --app gone-test --key token --count 5 --timeout 60
