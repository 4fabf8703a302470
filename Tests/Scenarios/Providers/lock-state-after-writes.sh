#!/usr/bin/env bash
# A long-lived reader (StressProbe reader) misses a key, which reads the keyring's lock state;
# another application stores an item; the reader misses two more keys. Prints "answers=..." (the
# three misses) and "recalled=N": how many of the two misses after the write recalled the lock
# state instead of reading it. On $SECURESTORE_PROVIDER.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=lock-memory
coproc READER { "$PROBE" reader --app $app --timeout 10; }
# The reader's answer for KEY: its value, nil, or !ERR_CODE.
ask() { echo "get $1" >&"${READER[1]}"; local answer; IFS= read -r -t 60 answer <&"${READER[0]}" || answer="$1 !no-answer"; echo "${answer#* }"; }
# How many lock states the reader has recalled so far.
recalled() { echo stats >&"${READER[1]}"; local stats; IFS= read -r -t 30 stats <&"${READER[0]}"; echo "${stats#*lock-recalled=}"; }
first=$(ask missing1)
before=$(recalled)
printf v | "$S" set k --app another-app || echo "the other application's write failed" >&2
answers="$first $(ask missing2) $(ask missing3)"
after=$(recalled)
echo "answers=$answers"
echo "recalled=$((after - before))"
eval "exec ${READER[1]}>&-"
wait "$READER_PID"
