#!/usr/bin/env bash
# A long-lived reader (StressProbe reader) is asked for keys between changes other processes
# make, each change returned before the reader is asked, each key read twice (the first read may
# search and remember, the second reads what was remembered). Prints "changes=N checks=N
# stale=N failed=N" (failed: changes that failed) and the reader's own counts; each unexpected
# read goes to standard error as the operation before it, never as a value. On $SECURESTORE_PROVIDER (GNOME Keyring by default).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=coherence
provider=${SECURESTORE_PROVIDER:-gnome-keyring}
coproc READER { "$PROBE" reader --app $app --timeout 10; }
changes=0; checks=0; stale=0; failed=0
changed() { changes=$((changes + 1)); }
# What the keyring holds for KEY, as another client (secret-tool) reads it; nil for nothing.
# Asked three times: secret-tool's own KWallet sessions fail like anyone's.
stored() {
  local got
  for _ in 1 2 3; do
    got=$(secret-tool lookup xdg:schema dev.securestore.Item application $app service app key "$1" synchronizable false 2>/dev/null) &&
      { printf '%s' "$got"; return; }
  done
  echo nil
}
# `after STATUS KEY VALUE OPERATION` sets $expect to VALUE when the change succeeded. One that
# failed (a timeout on a loaded machine) may have landed or not: the reader must then agree with
# what the keyring holds.
after() {
  expect=$3
  [ "$1" -eq 0 ] && return
  failed=$((failed + 1)); echo "change failed: round $round $4" >&2
  expect=$(stored "$2")
}
# Reads twice; reports the operation, never the values. After another client's write of a
# secret (`check KEY EXPECT OPERATION by-secret-tool`), a read that differs from what the write
# reported but agrees with what another client reads now is the keyring's state: the write did
# not land as reported (KWallet's broken key exchange, KDE bug 514194, can store other bytes
# than secret-tool sent and still answer success), counted with the failed changes.
# An unexpected read is described by what it got, never by its value: an error code, nil, the
# key's value before the change, or another value.
declare -A seen
check() {
  local got held what
  for read in 1 2; do
    got=$(ask "$1"); checks=$((checks + 1))
    [ "$got" = "$2" ] && { seen[$1]=$got; continue; }
    if [ "${4:-}" = by-secret-tool ] && held=$(stored "$1") && [ "$got" = "$held" ]; then
      failed=$((failed + 1)); echo "change did not land as reported: round $round $3" >&2
      set -- "$1" "$held" "$3" "$4"
      continue
    fi
    case $got in
    '!'*|nil) what=$got ;;
    *) [ "$got" = "${seen[$1]:-}" ] && what="the value before the change" || what="another value" ;;
    esac
    stale=$((stale + 1)); echo "unexpected: round $round after $3, read $read: $what" >&2
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
  store_item $app $key "a$round" WHEN_UNLOCKED; after $? $key "a$round" "secret-tool store"; changed
  check $key "$expect" "secret-tool store" by-secret-tool
  overwrite_elsewhere $key "o$round"; after $? $key "o$round" "another client's overwrite"; changed
  check $key "$expect" "another client's overwrite" "$([ "$provider" != keepassxc ] && echo by-secret-tool)"
  printf %s "b$round" | "$S" set $key --app $app --accessible AFTER_FIRST_UNLOCK
  after $? $key "b$round" "set with a new accessibility"; changed
  check $key "$expect" "set with a new accessibility"
  printf %s "c$round" | "$S" set $key --app $app --accessible AFTER_FIRST_UNLOCK
  after $? $key "c$round" "set in place"; changed
  check $key "$expect" "set in place"
  value=$expect
  edit_key $app "$(item_path $app $key)" "moved-$key" AFTER_FIRST_UNLOCK; edited=$?; changed
  after $edited $key nil "an attribute edit"
  check $key "$expect" "an attribute edit"
  after $edited moved-$key "$value" "an attribute edit (new key)"
  check moved-$key "$expect" "an attribute edit (new key)"
  clear_item $app "moved-$key"; after $? moved-$key nil "secret-tool clear (new key)"; changed
  check moved-$key "$expect" "secret-tool clear (new key)"
  store_item $app $key "e$round" WHEN_UNLOCKED; after $? $key "e$round" "secret-tool store (new item)"; changed
  check $key "$expect" "secret-tool store (new item)" by-secret-tool
  if [ $((round % 25)) = 0 ]; then
    lock_default; changed
    check $key "!ERR_INTERACTION_NOT_ALLOWED" "a lock"
    check missing "!ERR_INTERACTION_NOT_ALLOWED" "a lock (a key never stored)"
    value=$expect
    restart_provider >/dev/null; changed
    check $key "$value" "the keyring back, unlocked"
  fi
  clear_item $app $key; after $? $key nil "secret-tool clear"; changed
  check $key "$expect" "secret-tool clear"
  check missing nil "a key never stored"
done
echo "changes=$changes checks=$checks stale=$stale failed=$failed $(reader_says stats)"
[ "$provider_now" != "$SECURESTORE_PROVIDER_PID" ] && kill "$provider_now" 2>/dev/null
stop_reader
true
