#!/usr/bin/env bash
# KeePassXC or kwalletd5 ($SECURESTORE_PROVIDER) on the display, its database or wallet locked: a
# read whose unlock dialog nobody answers within its timeout, then a read whose unlock is answered
# in the dialog that is still open. `provider-dialog-timeout.sh SECONDS`. Prints
# "get=STATUS MILLISECONDS", the Prompt calls ("Prompt" and "Dismiss" lines), the unlock dialogs
# open afterwards, and the second read.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app="dialog-timeout"
dialog=$(provider_dialog)
provider_platform=xcb restart_provider >/dev/null || exit 1
printf kept | "$S" set token --app $app
lock_default
start_monitor "type='method_call',interface='org.freedesktop.Secret.Prompt'"
echo "get=$(timed "$S" get token --app $app --timeout "$1")"
until_recorded first
grep -oE "member=(Prompt|Dismiss)$" "$HOME/monitor" | cut -d= -f2
echo "windows afterwards=$(windows_named "$dialog" | grep -c .)"
"$LOCKED_KEYRING" --app $app --timeout "$(scaled 60)" token > "$HOME/read.txt" &
read=$!
# The password goes in once the second read has asked (its Prompt call), into the open window.
wait_for_prompt_calls 2
stop_monitor
id=$(wait_for_window "$dialog" 30) || { echo "no window"; exit 1; }
xdotool windowfocus --sync "$id" type --delay 20 "$KEYRING_PASSWORD"
xdotool key Return
wait $read; echo "read=$?"
cat "$HOME/read.txt"
