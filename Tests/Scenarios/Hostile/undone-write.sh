#!/usr/bin/env bash
# An overwrite that KWallet's double stores garbled; its status on standard error, then the value read.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf old | "$S" set k --app undo-test
printf new | "$S" set k --app undo-test; echo "set=$?" >&2
"$S" get k --app undo-test
