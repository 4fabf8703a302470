#!/usr/bin/env bash
# A write to a keyring a crash left locked, its items hidden; the password typed into the dialog.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'old' | "$S" set token --app hidden-desktop-test
kill_provider
# Another accessibility: only a search after the unlock finds the old item to replace (same
# attributes would be merged by the daemon anyway).
printf 'new' | "$S" set token --app hidden-desktop-test --accessible AFTER_FIRST_UNLOCK &
writer=$!
wait_for_dialog 15 || { echo "no dialog"; exit 1; }
"$UNLOCK_DIALOG" type "$KEYRING_PASSWORD"
wait $writer; echo "set=$?"
echo "value=$("$S" get token --app hidden-desktop-test --no-interaction)"
echo "items=$(secret-tool search --all application hidden-desktop-test 2>&1 | grep -c '^label = ')"
