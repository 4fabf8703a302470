#!/usr/bin/env bash
# Checking, listing and isAvailable on a locked keyring, interaction allowed.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app desktop-test
lock_login
start_unlock_monitor
"$S" exists token --app desktop-test; echo "exists=$?"
echo "list=$("$S" list --app desktop-test)"
"$PROBE" available --app desktop-test --interaction
unlock_requests
echo "dialogs=$("$UNLOCK_DIALOG" count)"
