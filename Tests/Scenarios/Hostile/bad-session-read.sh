#!/usr/bin/env bash
# A read from a process whose transfer session is KWallet's double's second, which derived
# another key and whose secrets decrypt to random bytes: the value read, in hex.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf first | "$S" set k --app session-read-test
"$S" get k --app session-read-test | od -An -tx1 | tr -d ' \n'; echo " status=${PIPESTATUS[0]}"
