#!/usr/bin/env bash
# An overwrite that KWallet's double stores garbled, with --verbose: the log on standard error,
# then the value read.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 0ld-v4lue-7c1 | "$S" set k --app undo-log-test
printf n3w-v4lue-9d2 | "$S" set k --app undo-log-test --verbose; echo "set=$?" >&2
"$S" get k --app undo-log-test --verbose
