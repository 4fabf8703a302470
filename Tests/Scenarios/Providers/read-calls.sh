#!/usr/bin/env bash
# The Secret Service calls of one `get` of a missing key and one of a present key, each a new
# process (so a new connection): prints "miss: MEMBER..." and "hit: MEMBER...", in order.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=read-calls
printf 'v' | "$S" set present --app $app
calls() {
  start_monitor "type='method_call',path_namespace='/org/freedesktop/secrets'"
  "$S" get "$1" --app $app >/dev/null 2>&1
  stop_monitor
  sed -n 's/^method call .* member=\(.*\)$/\1/p' "$HOME/monitor" | grep -vx NameHasOwner | tr '\n' ' '
}
echo "miss: $(calls missing)"
echo "hit: $(calls present)"
