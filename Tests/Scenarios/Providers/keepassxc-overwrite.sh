#!/usr/bin/env bash
# Writes, an overwrite and a new accessibility on KeePassXC, which asks before a replace.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'first' | "$S" set token --app kp-test --timeout 10; echo "set=$?"
printf 'second' | "$S" set token --app kp-test --timeout 10; echo "overwrite=$?"
echo "read=$("$S" get token --app kp-test --timeout 10)"
printf 'third' | "$S" set token --app kp-test --timeout 10 --accessible AFTER_FIRST_UNLOCK; echo "new-accessibility=$?"
echo "read-again=$("$S" get token --app kp-test --timeout 10)"
echo "items=$(secret-tool search --all application kp-test 2>/dev/null | grep -c '^label')"
