#!/usr/bin/env bash
# A write cancelled while the daemon is stopped; then the value left and the items.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'old value' | "$S" set target --app cancel-test
kill -STOP "$SECURESTORE_PROVIDER_PID"
"$PROBE" cancel --app cancel-test --after-ms 300 --timeout 60
kill -CONT "$SECURESTORE_PROVIDER_PID"; sleep 0.3
echo "after=$("$S" get target --app cancel-test)"
echo "items=$(secret-tool search --all application cancel-test 2>&1 | grep -c '^label = ')"
