#!/usr/bin/env bash
# `securestore watch` while another program's item with a terminal escape in its key exists and
# is then deleted: `watch-foreign.sh APP [--json]`. Prints the watch's status, then its output.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=$1; shift
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
evil=$(printf 'evil\033]0;PWNED\a')
printf v | secret-tool store --label evil xdg:schema dev.securestore.Item application "$app" service app \
  key "$evil" synchronizable false
"$S" watch --app "$app" "$@" > "$dir/out" 2> "$dir/err" &
watcher=$!
for _ in $(seq 600); do grep -q watching "$dir/err" && break; sleep 0.05; done
secret-tool clear application "$app" key "$evil"
printf e | "$S" set end --app "$app"
for _ in $(seq 600); do grep -q end "$dir/out" && break; sleep 0.05; done
kill $watcher; wait $watcher; echo "status=$?"
cat "$dir/out"
"$S" clear --app "$app"
