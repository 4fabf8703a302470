#!/usr/bin/env bash
# A watching process (StressProbe watch) started while no Secret Service runs, then a daemon
# starts and another client stores an item; prints its events, each stage after an "== STAGE" line.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=watch-later
kill "$SECURESTORE_PROVIDER_PID"; wait "$SECURESTORE_PROVIDER_PID" 2>/dev/null
for _ in $(seq 100); do
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets | grep -q false && break
  sleep 0.05
done
start_watcher $app
event_stage start; start_new_daemon > /dev/null; wait_for_event service-available
event_stage store; store_item $app k a WHEN_UNLOCKED; wait_for_event "added k"
event_stage end
kill $watcher $replacement 2>/dev/null; wait $watcher 2>/dev/null
cat events
