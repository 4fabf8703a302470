#!/usr/bin/env bash
# Both option spellings, and every misuse of the command.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'v' | "$S" set k --app=parse-test --service=svc; echo "equals=$?"
echo "spaced=$("$S" get k --app parse-test --service svc)"
"$S" get k --app parse-test --service svc --timeout=abc; echo "bad-timeout=$?"
"$S" get k --app parse-test --frobnicate; echo "unknown-option=$?"
"$S" get --app parse-test; echo "no-key=$?"
"$S" get a b --app parse-test; echo "two-keys=$?"
"$S" list k --app parse-test; echo "list-with-key=$?"
"$S" fetch k; echo "unknown-command=$?"
"$S" list --app parse-test --raw; echo "raw-on-list=$?"
"$S" get k --app parse-test --json=yes; echo "flag-with-value=$?"
"$S"; echo "nothing=$?"
"$S" --help | head -1; echo "help=$?"
