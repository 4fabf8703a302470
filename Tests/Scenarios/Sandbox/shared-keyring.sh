#!/usr/bin/env bash
# The sandbox keyring shared with libsecret (secret-tool in the same sandbox, the portal's key)
# and by several processes at once, and watched from another process.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
attributes=(xdg:schema dev.securestore.Item application shared service s synchronizable false)
# libsecret 0.20.5 in a sandbox can lose the portal's answer to its first request and then wait
# for ever (it subscribes to the answer late; seen in CI under load): its secret-tool gets 15 s
# and three tries, with INPUT on standard input: `libsecret INPUT ARGS...`.
libsecret() {
  local input=$1
  shift
  for _ in 1 2 3; do
    printf %s "$input" | timeout 15 "$SECURESTORE_IN_SANDBOX" $app secret-tool "$@" && return 0
  done
  return 1
}
printf ours | in_sandbox $app "$S" set token --app shared --service s; echo "set=$?"
echo "libsecret-reads=$(libsecret "" lookup "${attributes[@]}" key token)"
libsecret theirs store --label "shared / s / other [WHEN_UNLOCKED]" "${attributes[@]}" key other
echo "libsecret-set=$?"
echo "we-read=$(in_sandbox $app "$S" get other --app shared --service s)"
# Four processes, ten writes each, at once.
for writer in 1 2 3 4; do
  (for index in $(seq 10); do
     printf 'v%s-%s' "$writer" "$index" | in_sandbox $app "$S" set "k$writer-$index" --app shared --service s --timeout 600 || echo "failed k$writer-$index"
   done) &
done
wait
echo "keys=$(in_sandbox $app "$S" list --app shared --service s | grep -c '^k')"
echo "k3-7=$(in_sandbox $app "$S" get k3-7 --app shared --service s)"
# A watch in one process hears another process's write.
in_sandbox $app timeout 20 "$S" watch --app shared --service s >"$HOME/watch" 2>"$HOME/watching" &
for _ in $(seq 200); do grep -q watching "$HOME/watching" && break; sleep 0.05; done
printf w | in_sandbox $app "$S" set watched --app shared --service s
for _ in $(seq 200); do grep -q 'added watched' "$HOME/watch" && break; sleep 0.05; done
echo "heard=$(grep -c '^added watched$' "$HOME/watch")"
