#!/usr/bin/env bash
# The command with its input or output somewhere odd: `redirected.sh CASE APP`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=$2
case $1 in
  endless-input)    # `yes` never ends: a command that read to the end of its input would never return
    yes | timeout 60 "$S" set endless --app "$app"; echo "status=$?" ;;
  byte-count)       "$S" get largest --app "$app" --raw | wc -c ;;
  directory-input)  "$S" set unread --app "$app" < / ;;
  full-output)      "$S" get printed --app "$app" > /dev/full ;;
  full-list)        "$S" list --app "$app" > /dev/full ;;
  full-json-get)    "$S" get printed --app "$app" --json > /dev/full ;;
  full-json-list)   "$S" list --app "$app" --json > /dev/full ;;
  full-json-exists) "$S" exists printed --app "$app" --json > /dev/full ;;
  full-json-set)    printf w | "$S" set written --app "$app" --json > /dev/full ;;
  empty-pipe)       true | "$S" set kept --app "$app" ;;
  *) echo "redirected.sh: no case $1" >&2; exit 2 ;;
esac
