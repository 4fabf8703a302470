#!/usr/bin/env bash
# A delete of b by a long-lived process (StressProbe reader), on a service that has each delete
# confirmed by a prompt and announces the delete before it completes the prompt: the reader's
# "b deleted" or "b !CODE", then "lookups=N" (Properties.Get calls on b's path after its Delete)
# and "b=..." as a later get reads it.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=heard-delete
printf kept | "$S" set b --app $app
path=$(item_path $app b)
coproc READER { "$PROBE" reader --app $app --timeout 10; }
start_monitor "type='method_call',path='$path'"
reader_says "delete b"
stop_monitor
stop_reader
echo "lookups=$(grep -ac 'member=Get$' "$HOME/monitor")"
echo "b=$(value_of b $app)"
