#!/usr/bin/env bash
# KeePassXC on the display, its database locked: three reads that may ask the user (the
# LockedKeyring example, two rounds) share KeePassXC's own "Unlock Database" dialog; Escape, then
# a wrong password and the right one. `keepassxc-unlock-dialog.sh SCREENSHOT`. Prints the dialogs
# seen in round one and after the wrong password, the dialogs asked for in all ("prompts=N":
# Prompt calls), and each round's reads.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=kp-unlock
dialog='^Unlock Database - KeePassXC$'
keepassxc_platform=xcb restart_provider >/dev/null || exit 1
for key in a b c; do printf %s "value-$key" | "$S" set $key --app $app; done
lock_default
unlocked && { echo "the database stayed unlocked"; exit 1; }
start_unlock_monitor
"$LOCKED_KEYRING" --app $app --rounds 2 --timeout "$(scaled 60)" a b c > "$HOME/rounds.txt" &
reads=$!
id=$(wait_for_window "$dialog" 30) || { echo "no dialog"; exit 1; }
echo "dialogs while three reads wait: $(windows_named "$dialog" | grep -c .)"
import -window "$id" "$1"
xdotool windowfocus --sync "$id" key Escape
# KeePassXC shows round two's dialog in the same window: wait for round two's Prompt call.
wait_for_prompt_calls 2
id=$(wait_for_window "$dialog" 30) || { echo "no dialog in round two"; exit 1; }
xdotool windowfocus --sync "$id" type --delay 20 "not-the-password"
xdotool key Return
sleep 1
echo "dialogs after a wrong password: $(windows_named "$dialog" | grep -c .)"
xdotool windowfocus --sync "$id" key ctrl+a type --delay 20 "$KEYRING_PASSWORD"
xdotool key Return
wait $reads; echo "exit=$?"
stop_monitor
echo "prompts=$(grep -cE 'member=Prompt$' "$HOME/monitor")"
cat "$HOME/rounds.txt"
