#!/usr/bin/env bash
# Bytes in and out of the command: random, Latin-1, NUL, a trailing newline; an access group.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
head -c 32 /dev/urandom > "$HOME/k"
"$S" set bin --app bytes-test --raw < "$HOME/k"; echo "set-random=$?"
"$S" get bin --app bytes-test --raw | cmp - "$HOME/k" && echo "random=exact"
printf 'caf\xe9' | "$S" set lat1 --app bytes-test --raw; echo "set-latin1=$?"
echo "latin1=$("$S" get lat1 --app bytes-test --raw | od -An -tx1 | tr -d ' \n')"
printf 'caf\xe9\n' | "$S" set lat2 --app bytes-test; echo "set-default=$?"
echo "default=$("$S" get lat2 --app bytes-test --raw | od -An -tx1 | tr -d ' \n')"
echo "printed=$("$S" get lat2 --app bytes-test | od -An -tx1 | tr -d ' \n')"
"$S" get lat1 --app bytes-test --json; echo
printf 'a\000b' | "$S" set nul --app bytes-test --raw; echo "nul=$("$S" get nul --app bytes-test --raw | od -An -tx1 | tr -d ' \n')"
printf 'shared' | "$S" set tok --app first-app --access-group bytes-test.group; echo "set-group=$?"
echo "group-read=$("$S" get tok --app second-app --access-group bytes-test.group)"
"$S" get tok --app first-app; echo "without-group=$?"
"$S" clear --app first-app --access-group bytes-test.group
