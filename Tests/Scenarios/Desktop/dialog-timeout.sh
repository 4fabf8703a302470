#!/usr/bin/env bash
# A read whose dialog nobody answers within its timeout: `dialog-timeout.sh SECONDS`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app desktop-test
lock_login
"$S" get token --app desktop-test --timeout "$1" &
reader=$!
wait_for_dialog 20 && echo "dialog shown"
wait $reader; echo "get=$?"
# The dialog goes once the call that asked for it gives up: waited for up to 10 s.
for _ in $(seq 100); do [ "$("$UNLOCK_DIALOG" count)" = 0 ] && break; sleep 0.1; done
echo "dialogs afterwards=$("$UNLOCK_DIALOG" count)"
