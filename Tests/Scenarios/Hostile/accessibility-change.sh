#!/usr/bin/env bash
# An overwrite of a with a new accessibility, on a service that answers CreateItem with a prompt
# and has each delete confirmed by a prompt, refused (the double as keepassxc, --prompts soon
# --delete-prompts no). Prints "set=STATUS", the value a later get reads, and
# "items=N accessible=..." of a's items in the keyring.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=change-accessibility
printf old | "$S" set a --app $app
printf new | "$S" set a --app $app --accessible AFTER_FIRST_UNLOCK; echo "set=$?"
echo "a=$(value_of a $app)"
found=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.SearchItems "{'application': '$app', 'key': 'a'}")
mapfile -t paths < <(grep -o "/org/freedesktop/secrets/collection/[^']*" <<<"$found")
accessible=()
for path in "${paths[@]}"; do
  attributes=$(gdbus call --session --dest org.freedesktop.secrets --object-path "$path" \
    --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Item Attributes)
  accessible+=("$(grep -o "'accessible': '[A-Z_]*'" <<<"$attributes" | cut -d"'" -f4)")
done
echo "items=${#paths[@]} accessible=$(IFS=,; echo "${accessible[*]}")"
