#!/usr/bin/env bash
# KeePassXC, saving after every change, so that keepassxc-cli reads what it holds: a key set and
# deleted through SecureStore. Prints the delete's status, whether the key still exists, the
# database's entries for it, and whether the recycled entry holds the value (never the value).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=kp-recycle
sed -i 's/^AutoSaveAfterEveryChange=.*/AutoSaveAfterEveryChange=true/' "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini"
restart_provider >/dev/null || exit 1
# KeePassXC saves a change a moment after it answered: reads the file until its entries for the
# app are in GROUP, for up to 10 s (`saved_in GROUP`; the entries are left in $entries).
saved_in() {
  for _ in $(seq "$(scaled 100)"); do
    entries=$(printf '%s\n' "$KEYRING_PASSWORD" | keepassxc-cli ls -R -f "$HOME/secrets.kdbx" 2>/dev/null | grep "$app")
    grep -q "^$1/" <<<"$entries" && return 0
    sleep 0.1
  done
  return 1
}
printf 'deleted secret' | "$S" set gone --app $app --timeout 10
# A change made while KeePassXC writes its file never reaches the file (keepassxc-save-window.sh),
# so the delete waits for the set's save.
saved_in "Secret Service" || echo "the set was never saved"
"$S" delete gone --app $app --timeout 10; echo "delete=$?"
"$S" exists gone --app $app --timeout 10; echo "exists=$?"
saved_in "Recycle Bin"
echo "entries=$entries"
password=$(printf '%s\n' "$KEYRING_PASSWORD" | keepassxc-cli show -s "$HOME/secrets.kdbx" "/Recycle Bin/$app / app / gone" 2>/dev/null | sed -n 's/^Password: //p')
if [ "$password" = 'deleted secret' ]; then echo "value-recycled=yes"; else echo "value-recycled=no"; fi
