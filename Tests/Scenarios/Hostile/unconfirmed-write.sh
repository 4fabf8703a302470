#!/usr/bin/env bash
# An overwrite whose read-back KWallet's double never answers (and, with --garble-writes, stores
# garbled first), with a timeout of TIMEOUT seconds: `unconfirmed-write.sh TIMEOUT`. The write's
# status and message on standard error, then the value read.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf old | "$S" set k --app unconfirmed-test
printf new | "$S" set k --app unconfirmed-test --timeout "$1"; echo "set=$?" >&2
"$S" get k --app unconfirmed-test
