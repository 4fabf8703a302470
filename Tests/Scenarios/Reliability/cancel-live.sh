#!/usr/bin/env bash
# A write to a live daemon cancelled after DELAY milliseconds: `cancel-live.sh DELAY`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'old value' | "$S" set target --app cancel-test
"$PROBE" cancel --app cancel-test --after-ms "$1"
echo "after=$("$S" get target --app cancel-test)"
echo "items=$(secret-tool search --all application cancel-test 2>&1 | grep -c '^label = ')"
