#!/usr/bin/env bash
# A watcher while one key is written four times and deleted; prints the counts and the events.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=reported-once
start_watcher $app
for value in a b c d; do echo "== set $value" >> events; printf %s $value | "$S" set k --app $app; sleep 0.5; done
"$S" delete k --app $app; sleep 0.5
kill $watcher
echo "added=$(grep -cx 'added k' events) changed=$(grep -cx 'changed k' events) removed=$(grep -cx 'removed k' events)"
sed 's/^/event: /' events
