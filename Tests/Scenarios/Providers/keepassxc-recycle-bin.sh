#!/usr/bin/env bash
# KeePassXC, saving after every change, so that keepassxc-cli reads what it holds: a key set and
# deleted through SecureStore. Prints the delete's status, whether the key still exists, the
# database's entries for it, and whether the recycled entry holds the value (never the value).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=kp-recycle
sed -i 's/^AutoSaveAfterEveryChange=.*/AutoSaveAfterEveryChange=true/' "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini"
restart_provider >/dev/null || exit 1
printf 'deleted secret' | "$S" set gone --app $app --timeout 10
"$S" delete gone --app $app --timeout 10; echo "delete=$?"
"$S" exists gone --app $app --timeout 10; echo "exists=$?"
# KeePassXC saves the delete a moment after it answered (the file still holds the entry where
# the set put it until then): read until the save shows, for up to 10 s.
for _ in $(seq "$(scaled 100)"); do
  entries=$(printf '%s\n' "$KEYRING_PASSWORD" | keepassxc-cli ls -R -f "$HOME/secrets.kdbx" 2>/dev/null | grep "$app")
  grep -q "^Recycle Bin/" <<<"$entries" && break
  sleep 0.1
done
echo "entries=$entries"
password=$(printf '%s\n' "$KEYRING_PASSWORD" | keepassxc-cli show -s "$HOME/secrets.kdbx" "/Recycle Bin/$app / app / gone" 2>/dev/null | sed -n 's/^Password: //p')
if [ "$password" = 'deleted secret' ]; then echo "value-recycled=yes"; else echo "value-recycled=no"; fi
