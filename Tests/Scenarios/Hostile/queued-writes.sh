#!/usr/bin/env bash
# 800 writes at once from one process (StressProbe busy-available) on a service that answers
# each CreateItem with a prompt, as KeePassXC does (the double's --prompts soon), and an
# isAvailable meanwhile. Prints the probe's lines, then "pending-max=N": the most CreateItem
# prompts the service held at once, each a write the process had under way there.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
"$PROBE" busy-available --app queued-writes --timeout 30
echo "pending-max=$(awk -F= '/^prompts pending=/ { if ($2 > max) max = $2 } END { print max + 0 }' "$SECURESTORE_FAKE_DIRECTORY/double.out")"
