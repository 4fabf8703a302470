#!/usr/bin/env bash
# A watching process (StressProbe watch-own-writes) that writes k, overwrites it, then writes
# end itself; on the test double with --silent-set-secret, the overwrite's Item.SetSecret goes
# unannounced. Prints the watcher's events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
HOME=$(mktemp -d); trap 'rm -rf "$HOME"' EXIT
cd "$HOME" || exit 1
app=watch-own-overwrite
mkfifo writes
: > events
"$PROBE" watch-own-writes --app $app < writes >> events 2>&1 &
watcher=$!
exec 3> writes
for _ in $(seq "$(scaled 600)"); do grep -qx watching events && break; sleep 0.1; done
event_stage store; echo "set k a" >&3; wait_for_event "added k"
event_stage overwrite; echo "set k b" >&3; wait_for_event "changed k"
# Events come in order: once "added end" is heard, nothing about k is still to come.
event_stage end; echo "set end x" >&3; wait_for_event "added end"
exec 3>&-
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
cat events
