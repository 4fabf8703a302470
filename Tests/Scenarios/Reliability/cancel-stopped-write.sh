#!/usr/bin/env bash
# A write cancelled while the daemon is stopped; then the value left and the items.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'old value' | "$S" set target --app cancel-test
kill -STOP "$SECURESTORE_PROVIDER_PID"
"$PROBE" cancel --app cancel-test --after-ms 300 --timeout 60
# The daemon reads every client's calls from its one bus connection, in order: what the probe
# sent before it was cancelled is handled before the checks below.
kill -CONT "$SECURESTORE_PROVIDER_PID"
echo "after=$("$S" get target --app cancel-test)"
echo "items=$(secret-tool search --all application cancel-test 2>&1 | grep -c '^label = ')"
