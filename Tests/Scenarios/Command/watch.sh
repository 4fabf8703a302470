#!/usr/bin/env bash
# `securestore watch` of one service while keys of it and of another change: `watch.sh APP [--json]`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=$1; shift
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
"$S" watch --app "$app" --service watched "$@" > "$dir/out" 2> "$dir/err" &
watcher=$!
# Each step waits for the event before it, so writes never come close enough to merge.
seen() { for _ in $(seq 600); do [ "$(wc -l < "$dir/out")" -ge "$1" ] && return; sleep 0.05; done; }
for _ in $(seq 600); do grep -q watching "$dir/err" && break; sleep 0.05; done
printf a | "$S" set k --app "$app" --service watched; seen 1
printf b | "$S" set k --app "$app" --service watched; seen 2
printf c | "$S" set k --app "$app" --service elsewhere
"$S" delete k --app "$app" --service watched; seen 3
printf d | "$S" set end --app "$app" --service watched; seen 4
kill $watcher; wait $watcher; echo "status=$?"
cat "$dir/out"
"$S" clear --app "$app" --service watched; "$S" clear --app "$app" --service elsewhere
