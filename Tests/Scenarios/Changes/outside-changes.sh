#!/usr/bin/env bash
# A watching process (StressProbe watch) while other clients store, overwrite, edit, clear, lock
# and restart; prints its events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=watch-outside
start_watcher $app
waitFor() { for _ in $(seq 600); do grep -qx "$1" events && return; sleep 0.1; done; echo "never: $1" >> events; }
stage() { echo "== $1" >> events; }
stage store; store_item $app k a WHEN_UNLOCKED; waitFor "added k"
stage overwrite; store_item $app k b WHEN_UNLOCKED; waitFor "changed k"
stage edit; edit_key $app "$(item_path $app k)" moved WHEN_UNLOCKED
waitFor "removed k"; waitFor "added moved"
stage clear; clear_item $app moved; waitFor "removed moved"
stage lock; lock_login; waitFor locked
stage restart
gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
replacement=$!
waitFor service-available
stage "after the restart"; store_item $app k2 c WHEN_UNLOCKED; waitFor "added k2"
stage end
kill $watcher $replacement 2>/dev/null; wait $watcher 2>/dev/null
cat events
