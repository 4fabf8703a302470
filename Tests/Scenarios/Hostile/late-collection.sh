#!/usr/bin/env bash
# A collection opened while a KeePassXC search is answered (the double named keepassxc, with
# --late-collection 2): `set`'s search is the first, OPERATION's the second, after which every
# item is in the new collection. Prints each status, and what a `get` reads at the end.
#   late-collection.sh get|exists|delete|set
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'the value' | "$S" set token --app late-test; echo "set=$?"
case $1 in
get) ;;
exists) "$S" exists token --app late-test; echo "exists=$?" ;;
delete) "$S" delete token --app late-test; echo "delete=$?" ;;
set) printf 'new value' | "$S" set token --app late-test; echo "set=$?" ;;
esac
"$S" get token --app late-test; echo "get=$?"
