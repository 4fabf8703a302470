#!/usr/bin/env bash
# The Secret Service calls of one `get` of a missing key, one of a present key and one `set` of a
# new key, each a new process (so a new connection): prints "miss: STATUS CALL...", "hit: STATUS
# CALL..." and "new key: STATUS CALL...": the command's exit status, then each CALL as
# INTERFACE.MEMBER with the interface's last part (Collection.SearchItems, Service.SearchItems,
# Properties.Get), in order.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=new-process-calls
printf 'v' | "$S" set present --app $app
calls() {
  start_monitor "type='method_call',path_namespace='/org/freedesktop/secrets'"
  printf 'v' | "$S" "$@" --app $app >/dev/null 2>&1
  printf '%s ' "$?"
  stop_monitor
  sed -n 's/^method call .* interface=\([^;]*\); member=\(.*\)$/\1.\2/p' "$HOME/monitor" |
    sed 's/^.*\.\([^.]*\.[^.]*\)$/\1/' | grep -vx DBus.NameHasOwner | tr '\n' ' '
}
echo "miss: $(calls get missing)"
echo "hit: $(calls get present)"
echo "new key: $(calls set new)"
