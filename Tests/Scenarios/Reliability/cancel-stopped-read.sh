#!/usr/bin/env bash
# A read cancelled while the daemon is stopped, on a connection that worked before.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'old value' | "$S" set target --app cancel-test
stop_daemon() { kill -STOP "$SECURESTORE_PROVIDER_PID"; }
probe_meeting stop_daemon true cancel --app cancel-test --after-ms 300 --timeout 60 --read
# The daemon reads every client's calls from its one bus connection, in order: what the probe
# sent before it was cancelled is handled before the checks below.
kill -CONT "$SECURESTORE_PROVIDER_PID"
echo "after=$("$S" get target --app cancel-test)"
