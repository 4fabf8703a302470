#!/usr/bin/env bash
# KeePassXC on the display, its database without a recycle bin and with deletes confirmed: each
# delete shows KeePassXC's own "Delete entry?" dialog, answered with xdotool. A is deleted by the
# command (libsecret's prompt), b by a long-lived process that hears the prompt's Completed itself
# (StressProbe reader); first each is cancelled, then each confirmed. `keepassxc-delete-dialog.sh
# SCREENSHOT`. Prints each delete's outcome, the dialogs seen for it, and what a get reads after.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=kp-dialog

# A database like provider-session's, without a recycle bin: a delete is then for good, and
# KeePassXC asks a person first (ConfirmDeleteItem).
sed 's|<DatabaseName>|<RecycleBinEnabled>False</RecycleBinEnabled><DatabaseName>|' \
  "$SECURESTORE_PROVIDERS_DIR/exposed-group.xml" > "$HOME/no-recycle-bin.xml"
rm -f "$HOME/secrets.kdbx"
printf "%s\n%s\n" "$KEYRING_PASSWORD" "$KEYRING_PASSWORD" |
  keepassxc-cli import -q -p -t 100 "$HOME/no-recycle-bin.xml" "$HOME/secrets.kdbx" >/dev/null 2>&1 || { echo "no database"; exit 1; }
sed -i 's/^ConfirmDeleteItem=.*/ConfirmDeleteItem=true/' "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini"
provider_platform=xcb restart_provider >/dev/null || exit 1

dialog='^Delete entry\?$'

# `answer cancel|delete`: waits for the dialog, clicks the button (Cancel is the right one, Delete
# left of it: offsets from the bottom right, so the message's length does not move them), then
# waits for it to close. Prints "dialogs=N", the dialogs open when it was answered.
answer() {
  local id from_right
  id=$(wait_for_window "$dialog" 30) || { echo "dialogs=0"; return 1; }
  echo "dialogs=$(windows_named "$dialog" | grep -c .)"
  [ -n "${screenshot:-}" ] && import -window "$id" "$screenshot" && screenshot=""
  if [ "$1" = cancel ]; then from_right=63; else from_right=172; fi
  # xdotool --shell sets WINDOW, X, Y, WIDTH, HEIGHT and SCREEN.
  # shellcheck disable=SC2034
  local WINDOW X Y WIDTH HEIGHT SCREEN
  eval "$(xdotool getwindowgeometry --shell "$id")"
  xdotool mousemove --window "$id" $((WIDTH - from_right)) $((HEIGHT - 27)) click 1
  for _ in $(seq 100); do windows_named "$dialog" | grep -qx "$id" || return 0; sleep 0.1; done
  echo "the dialog stayed open"; return 1
}

printf kept | "$S" set a --app $app
printf kept | "$S" set b --app $app
screenshot=$1
coproc READER { "$PROBE" reader --app $app --timeout "$(scaled 60)"; }
for reply in cancel delete; do
  echo "== $reply"
  "$S" delete a --app $app --timeout "$(scaled 60)" 2>/dev/null & command=$!
  answer $reply
  wait $command; echo "command=$?"
  answer $reply & driver=$!
  reader_says "delete b"
  wait $driver
  for key in a b; do echo "$key=$(value_of $key $app)"; done
done
stop_reader
