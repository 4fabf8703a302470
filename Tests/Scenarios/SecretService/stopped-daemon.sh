#!/usr/bin/env bash
# A read from a stopped daemon with a 1 s timeout ("get=STATUS MILLISECONDS"), then from the daemon resumed.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app stopped-test
kill -STOP "$SECURESTORE_PROVIDER_PID"
echo "get=$(timed "$S" get token --app stopped-test --timeout 1)"
cat "$HOME/err" >&2
kill -CONT "$SECURESTORE_PROVIDER_PID"
echo "after=$("$S" get token --app stopped-test)"
