#!/usr/bin/env bash
# KeePassXC saving after every change (its default), with its save held at the file's
# `fdatasync` (strace injects a delay there): an overwrite made while the save is held succeeds
# and reads back, but the file keeps the value before it, so KeePassXC restarted reads the old
# value. Prints each step's status and the values read (test values only).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=kp-save-window
case $(uname -m) in x86_64) fdatasync=75 ;; aarch64) fdatasync=83 ;; *) echo "unknown architecture" >&2; exit 1 ;; esac
sed -i 's/^AutoSaveAfterEveryChange=.*/AutoSaveAfterEveryChange=true/' "$XDG_CONFIG_HOME/keepassxc/keepassxc.ini"
restart_provider >/dev/null || exit 1

# True while a thread of KeePassXC is in fdatasync (only a held one stays there long enough to see).
saving() {
  local task number
  for task in /proc/"$provider_now"/task/*; do
    read -r number _ < "$task/syscall" 2>/dev/null && [ "$number" = "$fdatasync" ] && return 0
  done
  return 1
}
strace -f -qq -o /dev/null -p "$provider_now" -e trace=fdatasync -e inject=fdatasync:delay_enter=30000000 &
tracer=$!
printf 'first' | "$S" set k --app $app --timeout 10; echo "set=$?"
held=no
for _ in $(seq "$(scaled 100)"); do saving && { held=yes; break; }; sleep 0.1; done
echo "save-held=$held"
printf 'second' | "$S" set k --app $app --timeout 10; echo "overwrite=$?"
echo "read=$(value_of k $app)"
kill "$tracer"; wait "$tracer"
for _ in $(seq "$(scaled 100)"); do saving || break; sleep 0.1; done
echo "read-after-save=$(value_of k $app)"
restart_provider >/dev/null || exit 1
echo "read-after-restart=$(value_of k $app)"
