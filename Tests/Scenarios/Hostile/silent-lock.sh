#!/usr/bin/env bash
# A KeePassXC that locks without a word (the double named keepassxc, with --silent-lock-after 2):
# a long-lived reader reads a key twice (a search, then its remembered item), the second read's
# answer being the last before the lock; then its items are gone, its searches held, its
# `Locked` true, and no signal says so. Prints the reader's answers after the lock, and its
# memory's counts.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf kept | "$S" set token --app silent-lock; echo "set=$?"
coproc READER { "$PROBE" reader --app silent-lock --timeout 10; }
echo "before=$(ask token) $(ask token)"
echo "after=$(ask token) $(ask missing)"
reader_says stats
stop_reader
