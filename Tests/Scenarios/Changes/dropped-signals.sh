#!/usr/bin/env bash
# A watching process (StressProbe watch) on the test double started with --collection-signals
# 20001:2: the overwrite comes after 20,001 CollectionChanged, more than the stream queues while
# its first batch waits for the service's answer, so the overwrite's own signal is dropped.
# Prints the watcher's events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
HOME=$(mktemp -d); trap 'rm -rf "$HOME"' EXIT
app=watch-dropped-signals
start_watcher $app
event_stage store; store_item $app k a WHEN_UNLOCKED; wait_for_event "added k"
event_stage overwrite; store_item $app k b WHEN_UNLOCKED; wait_for_stage_event "changed k"
event_stage end; store_item $app end x WHEN_UNLOCKED; wait_for_event "added end"
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
cat events
