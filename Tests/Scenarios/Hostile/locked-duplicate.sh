#!/usr/bin/env bash
# A key with an item in a locked collection besides the default one (the double's
# --locked-duplicate): a write without interaction cannot remove that item, so it must fail and
# leave the keyring as it was. Prints "set=STATUS" and "items=N", the items the double holds.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf new | "$S" set k --app locked-duplicate --no-interaction; echo "set=$?"
items=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/collection/login \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Items)
echo "items=$(grep -o "/collection/login/" <<<"$items" | wc -l)"
