#!/usr/bin/env bash
# A watching process (StressProbe watch) on the test double started with --collection-signals N:
# each write comes with N CollectionChanged. Prints the watcher's events, each stage after an
# "== STAGE" line, then "locked-reads=N": the watcher's Locked reads while the last two writes
# were heard (the writers, secret-tool, are told apart by their CreateItem).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
HOME=$(mktemp -d); trap 'rm -rf "$HOME"' EXIT
app=watch-collection-signals
start_watcher $app
event_stage store; store_item $app k a WHEN_UNLOCKED; wait_for_event "added k"
start_monitor "type='method_call',member='Get',arg1='Locked'" "type='method_call',member='CreateItem'"
event_stage overwrite; store_item $app k b WHEN_UNLOCKED; wait_for_event "changed k"
# Events come in order: once "added end" is heard, nothing about k is still to come.
event_stage end; store_item $app end x WHEN_UNLOCKED; wait_for_event "added end"
stop_monitor
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
cat events
reads=$(awk '$1 == "method" { sender = $4; if ($NF == "member=CreateItem") writers[sender] = 1; else if ($NF == "member=Get") gets[sender]++ }
  END { n = 0; for (s in gets) if (!(s in writers)) n += gets[s]; print n }' "$HOME/monitor")
echo "locked-reads=$reads"
