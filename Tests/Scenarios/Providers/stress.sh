#!/usr/bin/env bash
# 400 reads and 300 writes, each a new process, each checked with secret-tool; prints the counts.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
attributes=(application stress service app)
value() { printf 'value %s of item %s: \xc3\xbc \xe2\x9c\x93' "$1" "$2"; }
lookup() {   # the stored value through secret-tool, tried three times
  for _ in 1 2 3; do
    got=$(secret-tool lookup "${attributes[@]}" key "$1" 2>/dev/null) && [ "$got" = "$2" ] && { printf '%s' "$got"; return; }
  done
  printf '%s' "$got"
}
typed() { case $1 in 2|64|69|75|77|78) grep -q 'ERR_' "$2" ;; *) return 1 ;; esac; }
for item in $(seq 0 19); do
  for _ in 1 2 3; do value 0 "$item" | "$S" set "item$item" --app stress --raw && break; done
  [ "$(lookup "item$item" "$(value 0 "$item")")" = "$(value 0 "$item")" ] || { echo "setup-failed $item"; exit 1; }
done
declare -A current
for item in $(seq 0 19); do current[$item]=$(value 0 "$item"); done
ok=0 wrong=0 missing=0 errors=0 untyped=0
for n in $(seq 1 400); do
  item=$((n % 20))
  got=$("$S" get "item$item" --app stress --raw 2>/tmp/stress-err.$$); status=$?
  if [ $status -eq 0 ]; then
    if [ "$got" = "${current[$item]}" ]; then ok=$((ok + 1)); else wrong=$((wrong + 1)); fi
  elif [ $status -eq 1 ] && grep -q ERR_NOT_FOUND /tmp/stress-err.$$; then
    missing=$((missing + 1))
    # Whether another client finds the item right after tells a false miss from a lost item.
    if [ "$(lookup "item$item" "${current[$item]}")" = "${current[$item]}" ]; then
      echo "missing item$item (read $n): secret-tool then found it"
    else
      echo "missing item$item (read $n): secret-tool then did not find it"
    fi
  elif typed $status /tmp/stress-err.$$; then errors=$((errors + 1)); cat /tmp/stress-err.$$ >&2
  else untyped=$((untyped + 1)); cat /tmp/stress-err.$$ >&2; fi
done
echo "reads ok=$ok wrong=$wrong missing=$missing errors=$errors untyped=$untyped"
ok=0 wrong=0 errors=0 untyped=0
for n in $(seq 1 300); do
  item=$((n % 20))
  new=$(value "$n" "$item")
  printf '%s' "$new" | "$S" set "item$item" --app stress --raw 2>/tmp/stress-err.$$; status=$?
  if [ $status -eq 0 ]; then
    current[$item]=$new
    if [ "$(lookup "item$item" "$new")" = "$new" ]; then ok=$((ok + 1)); else wrong=$((wrong + 1)); fi
  elif typed $status /tmp/stress-err.$$; then errors=$((errors + 1)); cat /tmp/stress-err.$$ >&2
    current[$item]=$(lookup "item$item" "$new")   # old or new: a failed write may have landed
  else untyped=$((untyped + 1)); cat /tmp/stress-err.$$ >&2; fi
done
echo "writes ok=$ok wrong=$wrong errors=$errors untyped=$untyped"
rm -f /tmp/stress-err.$$
