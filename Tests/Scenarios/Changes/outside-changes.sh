#!/usr/bin/env bash
# A watching process (StressProbe watch) while other clients store, overwrite, edit, clear, lock
# and restart; prints its events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=watch-outside
start_watcher $app
event_stage store; store_item $app k a WHEN_UNLOCKED; wait_for_event "added k"
event_stage overwrite; store_item $app k b WHEN_UNLOCKED; wait_for_event "changed k"
event_stage edit; edit_key $app "$(item_path $app k)" moved WHEN_UNLOCKED
wait_for_event "removed k"; wait_for_event "added moved"
event_stage clear; clear_item $app moved; wait_for_event "removed moved"
event_stage lock; lock_login; wait_for_event locked
event_stage restart
gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
replacement=$!
wait_for_event service-available
event_stage "after the restart"; store_item $app k2 c WHEN_UNLOCKED; wait_for_event "added k2"
event_stage end
kill $watcher $replacement 2>/dev/null; wait $watcher 2>/dev/null
cat events
