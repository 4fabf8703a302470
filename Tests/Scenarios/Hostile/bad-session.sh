#!/usr/bin/env bash
# A write of a new key from a process whose transfer session is KWallet's double's second,
# which derived another key; its status on standard error with the writes the double refused
# or garbled, then the value read.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf first | "$S" set k1 --app session-test
printf second | "$S" set k2 --app session-test; echo "set=$?" >&2
echo "refused=$(grep -c -e refused -e garbled "$SECURESTORE_FAKE_DIRECTORY/double.out")" >&2
"$S" get k2 --app session-test
