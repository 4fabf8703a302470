#!/usr/bin/env bash
# Three reads of a locked keyring share a dialog; Cancel, then the password: `shared-dialog.sh SCREENSHOT`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
for key in a b c; do printf %s "value-$key" | "$S" set $key --app desktop-test; done
lock_login
"$LOCKED_KEYRING" --app desktop-test --rounds 2 a b c > "$HOME/rounds.txt" &
reader=$!
wait_for_dialog 15 || exit 1
sleep 1
echo "dialogs while three reads wait: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" screenshot "$1"
"$UNLOCK_DIALOG" cancel
wait_for_dialog 15 || exit 1
sleep 1
echo "dialogs in round two: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $reader; echo "exit=$?"
cat "$HOME/rounds.txt"
