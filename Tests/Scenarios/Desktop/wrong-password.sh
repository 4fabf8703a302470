#!/usr/bin/env bash
# A wrong password in the dialog, then Cancel, then the right password in the next.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app desktop-test
lock_login
"$LOCKED_KEYRING" --app desktop-test --rounds 2 token > "$HOME/rounds.txt" &
reader=$!
wait_for_dialog 15 || exit 1
"$UNLOCK_DIALOG" type not-the-password
sleep 1.5
echo "dialogs after a wrong password: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" cancel
wait_for_dialog 15 || exit 1
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $reader
cat "$HOME/rounds.txt"
