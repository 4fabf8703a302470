#!/usr/bin/env bash
# Writes, an overwrite and a new accessibility on KeePassXC, which asks before a replace (and may
# before a delete: a new accessibility keeps the item).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'first' | "$S" set token --app kp-test --timeout 10; echo "set=$?"
printf 'second' | "$S" set token --app kp-test --timeout 10; echo "overwrite=$?"
echo "read=$("$S" get token --app kp-test --timeout 10)"
item() { secret-tool search --all application kp-test 2>/dev/null | grep '^\[/'; }
before=$(item)
printf 'third' | "$S" set token --app kp-test --timeout 10 --accessible AFTER_FIRST_UNLOCK; echo "new-accessibility=$?"
if [ -n "$before" ] && [ "$(item)" = "$before" ]; then echo "same-item=yes"; else echo "same-item=no"; fi
secret-tool search --all application kp-test 2>&1 | grep '^attribute.accessible' | tr -d ' '   # attributes go to standard error
echo "read-again=$("$S" get token --app kp-test --timeout 10)"
echo "items=$(secret-tool search --all application kp-test 2>/dev/null | grep -c '^label')"
