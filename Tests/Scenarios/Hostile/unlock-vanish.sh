#!/usr/bin/env bash
# A daemon that dies under its unlock dialog (the double with --stays-locked and --unlock-prompt
# vanish, which ends when its unlock's prompt is run): a long-lived reader that may ask the user,
# given 60 s (times the slowness factor), is answered as unavailable, not at its timeout.
# Prints the reader's answer.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
coproc READER { "$PROBE" reader --app unlock-vanish --interaction --timeout "$(scaled 60)"; }
echo "read=$(ask token)"
stop_reader
