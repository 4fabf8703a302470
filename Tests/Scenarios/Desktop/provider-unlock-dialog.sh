#!/usr/bin/env bash
# KeePassXC or kwalletd5 ($SECURESTORE_PROVIDER) on the display, its database or wallet locked:
# three reads that may ask the user (the LockedKeyring example, two rounds) share the provider's
# own unlock dialog; Escape, then a wrong password and the right one.
# `provider-unlock-dialog.sh SCREENSHOT`. Prints the dialogs seen in round one and after the
# wrong password, the dialogs asked for in all ("prompts=N": Prompt calls), and each round's reads.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=unlock-dialog
dialog=$(provider_dialog)

# Types a wrong password into the dialog ID and returns once the provider has answered it.
# KeePassXC tries it with its database file open, in its main thread, and shows its error in the
# same window as soon as it has closed the file; strace reports the close, and keys typed after
# it reach the form again. kwalletd5 hides its dialog to try the password and shows it again,
# saying so: xev reports the window's unmap and map (xev says nothing when it starts, so the
# window is nudged until xev reports the move).
type_wrong_password() {
  if [ "$SECURESTORE_PROVIDER" = keepassxc ]; then
    local tracer before
    strace -qq -o "$HOME/unlock-trace" -p "$provider_now" -e trace=openat,close &
    tracer=$!
    for _ in $(seq "$(scaled 100)"); do [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$provider_now/status")" != 0 ] && break; sleep 0.1; done
    xdotool windowfocus --sync "$1" type --delay 20 "not-the-password"
    before=$(wc -l < "$HOME/unlock-trace")
    xdotool key Return
    for _ in $(seq "$(scaled 300)"); do database_closed "$HOME/unlock-trace" "$before" && break; sleep 0.1; done
    kill "$tracer"; wait "$tracer"
    database_closed "$HOME/unlock-trace" "$before" || { echo "the password was never tried"; exit 1; }
    return
  fi
  local events step X Y
  xev -id "$1" -event structure > "$HOME/dialog-events" &
  events=$!
  eval "$(xdotool getwindowgeometry --shell "$1")"
  for step in $(seq "$(scaled 300)"); do
    xdotool windowmove "$1" $(( X + step % 2 )) "$Y"
    grep -q ConfigureNotify "$HOME/dialog-events" && break
    sleep 0.1
  done
  xdotool windowfocus --sync "$1" type --delay 20 "not-the-password"
  xdotool key Return
  for _ in $(seq "$(scaled 300)"); do
    shown_again && break
    sleep 0.1
  done
  kill "$events"
  shown_again || { echo "the password was never tried"; exit 1; }
}
shown_again() { grep -A1000 UnmapNotify "$HOME/dialog-events" | grep -q MapNotify; }

# True once the strace record TRACE, after its first SKIP lines, holds the database file opened
# and then closed: `database_closed TRACE SKIP`.
database_closed() {
  tail -n "+$(( $2 + 1 ))" "$1" | awk '/^openat\(.*secrets\.kdbx".*= [0-9]+$/ { fd = $NF; next }
       fd != "" && index($0, "close(" fd ")") == 1 { closed = 1 }
       END { exit !closed }'
}

provider_platform=xcb restart_provider >/dev/null || exit 1
for key in a b c; do printf %s "value-$key" | "$S" set $key --app $app; done
lock_default
unlocked && { echo "the keyring stayed unlocked"; exit 1; }
start_unlock_monitor
"$LOCKED_KEYRING" --app $app --rounds 2 --timeout "$(scaled 60)" a b c > "$HOME/rounds.txt" &
reads=$!
id=$(wait_for_window "$dialog" 30) || { echo "no dialog"; exit 1; }
echo "dialogs while three reads wait: $(windows_named "$dialog" | grep -c .)"
import -window "$id" "$1"
xdotool windowfocus --sync "$id" key Escape
# Round two's dialog may come in the same window: wait for round two's Prompt call.
wait_for_prompt_calls 2
id=$(wait_for_window "$dialog" 30) || { echo "no dialog in round two"; exit 1; }
type_wrong_password "$id"
echo "dialogs after a wrong password: $(windows_named "$dialog" | grep -c .)"
xdotool windowfocus --sync "$id" key ctrl+a type --delay 20 "$KEYRING_PASSWORD"
xdotool key Return
wait $reads; echo "exit=$?"
stop_monitor
echo "prompts=$(grep -cE 'member=Prompt$' "$HOME/monitor")"
cat "$HOME/rounds.txt"
