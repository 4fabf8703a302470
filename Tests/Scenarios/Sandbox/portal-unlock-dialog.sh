#!/usr/bin/env bash
# A sandboxed app's key from the Secret portal while the desktop's keyring is locked: the
# portal's backend (gnome-keyring) shows the keyring's unlock dialog. Cancel, then the password,
# each for a get in the sandbox. Prints "set=STATUS", then "cancelled=STATUS CODE" and
# "unlocked=STATUS VALUE".
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
printf v | in_sandbox $app "$S" set token --app portal-dialog --timeout 60; echo "set=$?"
lock_login
in_sandbox $app "$S" get token --app portal-dialog --timeout 60 >/dev/null 2>"$HOME/err" &
reader=$!
wait_for_dialog 20 || { echo "no dialog"; exit 1; }
"$UNLOCK_DIALOG" cancel || exit 1
wait $reader; echo "cancelled=$? $(grep -o 'ERR_[A-Z_]*' "$HOME/err" | head -n 1)"
in_sandbox $app "$S" get token --app portal-dialog --timeout 60 >"$HOME/out" 2>"$HOME/err" &
reader=$!
wait_for_dialog 20 || { echo "no dialog"; exit 1; }
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $reader; echo "unlocked=$? $(cat "$HOME/out")"
