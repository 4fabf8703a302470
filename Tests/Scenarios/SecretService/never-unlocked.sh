#!/usr/bin/env bash
# Every command after the daemon died and D-Bus started a new one, its keyring locked.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app hidden-test
kill_provider
"$S" get token --app hidden-test --no-interaction; echo "get=$?"
"$S" get token --app hidden-test --no-interaction; echo "get-again=$?"
"$S" exists token --app hidden-test --no-interaction; echo "exists=$?"
"$S" list --app hidden-test --no-interaction; echo "list=$?"
"$S" delete token --app hidden-test --no-interaction; echo "delete=$?"
printf 'new' | "$S" set token --app hidden-test --no-interaction; echo "set=$?"
