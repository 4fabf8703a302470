#!/usr/bin/env bash
# A long-lived reader (StressProbe reader) is asked for keys between changes other processes
# make, each change returned before the reader is asked, each key read twice (the first read may
# search and remember, the second reads what was remembered). Prints "changes=N checks=N
# stale=N" and the reader's own counts; each unexpected read goes to standard error as the
# operation before it, never as a value. On $SECURESTORE_PROVIDER (GNOME Keyring by default).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=coherence
provider=${SECURESTORE_PROVIDER:-gnome-keyring}
coproc READER { "$PROBE" reader --app $app --timeout 10; }
ask() { echo "get $1" >&"${READER[1]}"; local answer; IFS= read -r -t 30 answer <&"${READER[0]}" || answer="$1 !no-answer"; echo "${answer#* }"; }
changes=0; checks=0; stale=0
changed() { changes=$((changes + 1)); }
# Reads twice; reports the operation, never the values.
check() {
  local got
  for read in 1 2; do
    got=$(ask "$1"); checks=$((checks + 1))
    [ "$got" = "$2" ] || { stale=$((stale + 1)); echo "unexpected: round $round after $3, read $read" >&2; }
  done
}

# Another client's overwrite in place. KeePassXC answers secret-tool's CreateItem(replace) with a
# dialog, so there the other client is the command (Item.SetSecret); KWallet moves the item.
overwrite_elsewhere() {
  case $provider in
  keepassxc) printf %s "$2" | "$S" set "$1" --app $app --accessible WHEN_UNLOCKED ;;
  *) store_item $app "$1" "$2" WHEN_UNLOCKED ;;
  esac
}

# After a lock (lock_default), the keyring comes back unlocked with a new daemon
# (restart_provider): none of the three unlocks without a person but at its start.

for round in $(seq 1 "${ROUNDS:-300}"); do
  key=k$((round % 4))
  store_item $app $key "a$round" WHEN_UNLOCKED; changed
  check $key "a$round" "secret-tool store"
  overwrite_elsewhere $key "o$round"; changed
  check $key "o$round" "another client's overwrite"
  printf %s "b$round" | "$S" set $key --app $app --accessible AFTER_FIRST_UNLOCK; changed
  check $key "b$round" "set with a new accessibility"
  printf %s "c$round" | "$S" set $key --app $app --accessible AFTER_FIRST_UNLOCK; changed
  check $key "c$round" "set in place"
  edit_key $app "$(item_path $app $key)" "moved-$key" AFTER_FIRST_UNLOCK; changed
  check $key nil "an attribute edit"
  check moved-$key "c$round" "an attribute edit (new key)"
  clear_item $app "moved-$key"; changed
  check moved-$key nil "secret-tool clear (new key)"
  store_item $app $key "e$round" WHEN_UNLOCKED; changed
  check $key "e$round" "secret-tool store (new item)"
  if [ $((round % 25)) = 0 ]; then
    lock_default; changed
    check $key "!ERR_INTERACTION_NOT_ALLOWED" "a lock"
    check missing "!ERR_INTERACTION_NOT_ALLOWED" "a lock (a key never stored)"
    restart_provider >/dev/null; changed
    check $key "e$round" "the keyring back, unlocked"
  fi
  clear_item $app $key; changed
  check $key nil "secret-tool clear"
  check missing nil "a key never stored"
done
echo stats >&"${READER[1]}"; IFS= read -r -t 30 stats <&"${READER[0]}"
echo "changes=$changes checks=$checks stale=$stale $stats"
[ "$provider_now" != "$SECURESTORE_PROVIDER_PID" ] && kill "$provider_now" 2>/dev/null
reader=$READER_PID
eval "exec ${READER[1]}>&-"
wait "$reader"
true
