#!/usr/bin/env bash
# A watching process (StressProbe watch) on the test double started with
# --fail-searches-after-write 2: after each write, the search of the watcher's batch fails, and
# again when tried once more (with --echo-changes the double announces each write again a little
# later). Prints the watcher's events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
HOME=$(mktemp -d); trap 'rm -rf "$HOME"' EXIT
app=watch-unanswered
start_watcher $app
event_stage store; store_item $app k a WHEN_UNLOCKED; wait_for_event "added k"
event_stage overwrite; store_item $app k b WHEN_UNLOCKED; wait_for_event "changed k"
# Events come in order: once "added end" is heard, nothing about k is still to come.
event_stage end; store_item $app end x WHEN_UNLOCKED; wait_for_event "added end"
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
cat events
