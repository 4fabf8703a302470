#!/usr/bin/env bash
# A long-lived reader is asked for keys between other clients' changes; prints the counts.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=coherence
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
replacement=
for round in $(seq 1 "${ROUNDS:-300}"); do
  key=k$((round % 4))
  store_item $app $key "a$round" WHEN_UNLOCKED; changed
  check $key "a$round" "secret-tool store"
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
    lock_login; changed
    check $key "!ERR_INTERACTION_NOT_ALLOWED" "a lock"
    [ -n "$replacement" ] && kill "$replacement" 2>/dev/null
    gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
    replacement=$!; changed
    gdbus wait --session --timeout 5 org.freedesktop.secrets; sleep 0.3
    check $key "e$round" "a daemon restart (unlocked)"
  fi
  clear_item $app $key; changed
  check $key nil "secret-tool clear"
done
echo stats >&"${READER[1]}"; IFS= read -r -t 30 stats <&"${READER[0]}"
echo "changes=$changes checks=$checks stale=$stale $stats"
[ -n "$replacement" ] && kill "$replacement" 2>/dev/null
reader=$READER_PID
eval "exec ${READER[1]}>&-"
wait "$reader"
true
