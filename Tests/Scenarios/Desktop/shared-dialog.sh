#!/usr/bin/env bash
# Three reads of a locked keyring share a dialog; Cancel, then the password: `shared-dialog.sh SCREENSHOT`.
# Prints the dialogs seen in each round, and the dialogs asked for in all ("prompts=N": the
# Prompt calls, one per dialog the Secret Service shows).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
for key in a b c; do printf %s "value-$key" | "$S" set $key --app desktop-test; done
lock_login
start_unlock_monitor
"$LOCKED_KEYRING" --app desktop-test --rounds 2 a b c > "$HOME/rounds.txt" &
reader=$!
wait_for_dialog 15 || exit 1
echo "dialogs while three reads wait: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" screenshot "$1"
"$UNLOCK_DIALOG" cancel || exit 1
wait_for_dialog 15 || exit 1
echo "dialogs in round two: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $reader; echo "exit=$?"
stop_monitor
echo "prompts=$(grep -cE 'member=Prompt$' "$HOME/monitor")"
cat "$HOME/rounds.txt"
