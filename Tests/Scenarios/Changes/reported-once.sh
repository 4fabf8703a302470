#!/usr/bin/env bash
# A watcher while one key is written four times and deleted; prints its events, each write's
# after an "== STAGE" line. Each stage waits for its write's event; a last write of another key,
# reported after everything before it, lets the stragglers of a split burst in.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=reported-once
start_watcher $app
event_stage "set a"; printf a | "$S" set k --app $app; wait_for_stage_event "added k"
for value in b c d; do
  event_stage "set $value"; printf %s $value | "$S" set k --app $app; wait_for_stage_event "changed k"
done
event_stage delete; "$S" delete k --app $app; wait_for_stage_event "removed k"
event_stage end; printf m | "$S" set marker --app $app; wait_for_stage_event "added marker"
kill $watcher
cat events
