#!/usr/bin/env bash
# A long-lived reader (StressProbe reader) misses a key, which reads the keyring's lock state;
# another application stores an item; the reader misses two more keys. Prints "answers=..." (the
# three misses) and "recalled=N": how many of the two misses after the write recalled the lock
# state instead of reading it. On $SECURESTORE_PROVIDER.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=lock-memory
coproc READER { "$PROBE" reader --app $app --timeout 10; }
# How many lock states the reader has recalled so far.
recalled() { local stats; stats=$(reader_says stats); echo "${stats#*lock-recalled=}"; }
first=$(ask missing1)
before=$(recalled)
printf v | "$S" set k --app another-app || echo "the other application's write failed" >&2
answers="$first $(ask missing2) $(ask missing3)"
after=$(recalled)
echo "answers=$answers"
echo "recalled=$((after - before))"
stop_reader
