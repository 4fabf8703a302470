#!/usr/bin/env bash
# A wrong password in the dialog, then Cancel, then the right password in the next.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app desktop-test
lock_login
# gnome-keyring shows each question through its prompter's PerformPrompt, which answers once the
# dialog asks: a second one answered is the dialog asking again after the wrong password.
start_monitor "type='method_call',member='PerformPrompt'" "type='method_return'" "type='error'"
"$LOCKED_KEYRING" --app desktop-test --rounds 2 token > "$HOME/rounds.txt" &
reader=$!
wait_for_dialog 15 || exit 1
"$UNLOCK_DIALOG" type not-the-password
wait_for_answers PerformPrompt 2 || { echo "the dialog never asked again"; exit 1; }
echo "dialogs after a wrong password: $("$UNLOCK_DIALOG" count)"
"$UNLOCK_DIALOG" cancel
wait_for_dialog 15 || exit 1
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $reader
stop_monitor
cat "$HOME/rounds.txt"
