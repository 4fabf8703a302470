#!/usr/bin/env bash
# Every command without interaction on a locked keyring; then a new daemon, unlocked, on its files.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app locked-test
lock_login
"$S" get token --app locked-test --no-interaction --timeout 60; echo "get=$?"
printf 'new' | "$S" set token --app locked-test --no-interaction --timeout 60; echo "set-existing=$?"
printf 'new' | "$S" set fresh --app locked-test --no-interaction --timeout 60; echo "set-new=$?"
"$S" delete token --app locked-test --no-interaction --timeout 60; echo "delete=$?"
"$S" clear --app locked-test --no-interaction --timeout 60; echo "clear=$?"
"$S" exists token --app locked-test --no-interaction --timeout 60; echo "exists=$?"
echo "list=$("$S" list --app locked-test --no-interaction --timeout 60)"
# A new daemon on the same keyring files, unlocked with the password: nothing was lost.
gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
replacement=$!
wait_for_owner $replacement || echo "the new daemon never took the name"
echo "after-unlock=$("$S" get token --app locked-test --no-interaction)"
"$S" exists fresh --app locked-test; echo "fresh-exists=$?"
kill -KILL $replacement
