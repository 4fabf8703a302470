#!/usr/bin/env bash
# The provider's default collection locked through the Secret Service: a read without interaction,
# then checking, listing and isAvailable with interaction allowed. Prints "get=STATUS
# MILLISECONDS", "exists=STATUS", "list=STATUS KEYS", the probe's "available=...", and the calls that
# could show an unlock dialog ("unlock requests=N").
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=locked-quiet
printf 'kept' | "$S" set token --app $app; echo "set=$?"
lock_default
unlocked && { echo "the collection stayed unlocked"; exit 1; }
start_unlock_monitor
echo "get=$(timed "$S" get token --app $app --no-interaction --timeout 60)"
"$S" exists token --app $app --timeout 60; echo "exists=$?"
keys=$("$S" list --app $app --timeout 60); echo "list=$?${keys:+ $keys}"
"$PROBE" available --app $app --interaction
unlock_requests
