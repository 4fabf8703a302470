#!/usr/bin/env bash
# Two items of one key, made in the same second of the service's clock (the double's
# --frozen-clock): token by SecureStore, then by secret-tool under another accessibility, as an
# overwrite cut between its new item and the old one's removal leaves them. Prints what the
# command and a long-lived process (StressProbe reader) read then ("get=STATUS" and the error's
# code; "token VALUE" or "token !CODE"), then after the key's next write its value and items.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=same-second
printf old | "$S" set token --app $app
printf new | secret-tool store --label "$app / app / token" xdg:schema dev.securestore.Item application $app service app key token \
  accessible AFTER_FIRST_UNLOCK synchronizable false
"$S" get token --app $app 2>"$HOME/err"; echo "get=$?"
grep -o "ERR_[A-Z_]*" "$HOME/err" | head -n 1
grep -q "write the key again" "$HOME/err" && echo "says: write the key again"
coproc READER { "$PROBE" reader --app $app --timeout 10; }
reader_says "get token"
printf newest | "$S" set token --app $app; echo "set=$?"
reader_says "get token"
stop_reader
found=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.SearchItems "{'application': '$app', 'key': 'token'}")
echo "items=$(grep -o "/org/freedesktop/secrets/collection/[^']*" <<<"$found" | grep -c .)"
