#!/usr/bin/env bash
# Deletes of a and b on a service that has each delete confirmed by a prompt (the double's
# --delete-prompts): a by the command (libsecret's prompt), b by a long-lived process that hears
# the prompt's Completed itself (StressProbe reader). Prints "command=STATUS", the reader's
# "b deleted" or "b !CODE", then "a=..." and "b=..." as a later get reads them.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=confirm-delete
printf kept | "$S" set a --app $app
printf kept | "$S" set b --app $app
"$S" delete a --app $app; echo "command=$?"
coproc READER { "$PROBE" reader --app $app --timeout 10; }
reader_says "delete b"
stop_reader
for key in a b; do echo "$key=$(value_of $key $app)"; done
