#!/usr/bin/env bash
# A read of a key whose items the double never lets be read (replaced at every read, or hidden
# by a keyring that stays locked however often it is unlocked): the read's status, and its error.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf v | "$S" set k --app endless-read-test 2>/dev/null
timeout 20 "$S" get k --app endless-read-test; echo "status=$?"
