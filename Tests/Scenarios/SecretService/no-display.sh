#!/usr/bin/env bash
# A read of a locked keyring with interaction allowed, where no dialog can be shown.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app prompt-test
lock_login
"$S" get token --app prompt-test --timeout 60; echo "get=$?"
