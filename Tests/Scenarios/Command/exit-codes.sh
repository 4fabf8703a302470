#!/usr/bin/env bash
# Every command and its exit status, with text, JSON and bad input.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'line one\nline two\n' | "$S" set note --app cli-test; echo "set=$?"
"$S" get note --app cli-test; echo "get=$?"
"$S" get note --app cli-test --raw | od -An -c -w64 | tr -s ' '; echo
printf 'exact\n' | "$S" set exact --app cli-test --raw; "$S" get exact --app cli-test --raw | od -An -c -w64 | tr -s ' '; echo
"$S" get note --app cli-test --json; echo
"$S" get missing --app cli-test; echo "missing=$?"
"$S" exists note --app cli-test; echo "exists=$?"
"$S" exists missing --app cli-test; echo "exists-missing=$?"
"$S" exists note --app cli-test --json; echo
printf 'v' | "$S" set other --app cli-test --service mail --accessible AFTER_FIRST_UNLOCK; echo "set-service=$?"
echo "list=$("$S" list --app cli-test | tr '\n' ',')"
echo "list-mail=$("$S" list --app cli-test --service mail --json)"
printf 'v' | "$S" set synced --app cli-test --synchronizable yes; echo "set-synced=$?"
echo "list-any=$("$S" list --app cli-test --synchronizable any | tr '\n' ',')"
"$S" delete note --app cli-test; echo "delete=$?"
"$S" delete note --app cli-test; echo "delete-again=$?"
"$S" clear --app cli-test --service mail; echo "clear=$?"
echo "list-mail-after=$("$S" list --app cli-test --service mail | tr '\n' ',')"
printf 'v' | "$S" set 'bad key' --app cli-test; echo "bad-key=$?"
printf 'v' | "$S" set k --app cli-test --accessible SOMETIMES; echo "bad-accessible=$?"
printf 'v' | "$S" set k --app cli-test --accessible ALWAYS_THIS_DEVICE_ONLY --synchronizable yes; echo "contradiction=$?"
# shellcheck disable=SC2069  # the error object to standard output, the output itself dropped
"$S" get k --app cli-test --json 2>&1 >/dev/null; echo
