#!/usr/bin/env bash
# A read of a locked keyring without interaction, on a desktop that could show a dialog.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app desktop-test
lock_login
start_unlock_monitor
"$S" get token --app desktop-test --no-interaction --timeout 60; echo "get=$?"
unlock_requests
echo "dialogs=$("$UNLOCK_DIALOG" count)"
