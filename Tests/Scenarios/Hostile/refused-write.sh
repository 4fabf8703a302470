#!/usr/bin/env bash
# A write that KWallet's double refuses ("Can't find session") after making its item; the
# write's status and each key left on standard error, then the value read.
#   refused-write.sh [SET-OPTION...]
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf old | "$S" set k --app refused-test
printf new | "$S" set k --app refused-test "$@"; echo "set=$?" >&2
"$S" list --app refused-test | sed 's/^/left=/' >&2
"$S" get k --app refused-test
