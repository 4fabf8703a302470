#!/usr/bin/env bash
# A new key written by a process that hears the service's signals (StressProbe write-once, with
# a 3 s timeout) on the test double named keepassxc, whose CreateItem waits for its prompt
# (--prompts): prints "write=ok|wrong|CODE", then "dismissed=N", the prompts the double was
# asked to dismiss.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
"$PROBE" write-once --app prompted --timeout "$(scaled 3)"
echo "dismissed=$(grep -c dismissed "$SECURESTORE_FAKE_DIRECTORY/double.out")"
