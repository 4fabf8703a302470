#!/usr/bin/env bash
# A write of "new" to k on a session its process has verified (KWallet's one-round-trip write,
# here on its double); with "overwrite", over "old" that another process stored. Standard
# error: the probe's outcome and error. Standard output: the value read, "items=N" (the items
# that hold k) and "beside=N" (the CreateItem calls without replace).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
if [ "${1:-}" = overwrite ]; then printf old | "$S" set k --app second-write; fi
"$PROBE" second-write --app second-write --value new >&2
"$S" get k --app second-write
found=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.SearchItems "{'application': 'second-write', 'key': 'k'}")
echo "items=$(grep -o "objectpath" <<<"$found" | wc -l)"
echo "beside=$(grep -c "create replace=False" "$SECURESTORE_FAKE_DIRECTORY/double.out")"
