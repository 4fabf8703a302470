#!/usr/bin/env bash
# Two processes write the same five keys at once; then the items per key.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
"$PROBE" writer --app two-writers --tag first --rounds 15 --keys 5 > "$HOME/first.txt" &
"$PROBE" writer --app two-writers --tag second --rounds 15 --keys 5 > "$HOME/second.txt" &
wait; cat "$HOME/first.txt" "$HOME/second.txt"
for key in 0 1 2 3 4; do
  echo "items$key=$(secret-tool search --all application two-writers key "shared$key" 2>&1 | grep -c '^label = ')"
done
