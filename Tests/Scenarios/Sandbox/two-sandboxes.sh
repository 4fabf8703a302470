#!/usr/bin/env bash
# Two apps in two sandboxes, with the same application ID and key.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf a | in_sandbox org.example.A "$S" set token --app same; echo "a-set=$?"
in_sandbox org.example.B "$S" get token --app same; echo "b-get=$?"
printf b | in_sandbox org.example.B "$S" set token --app same; echo "b-set=$?"
in_sandbox org.example.B "$S" clear --app same; echo "b-clear=$?"
echo "a-get=$(in_sandbox org.example.A "$S" get token --app same)"
echo "a-list=$(in_sandbox org.example.A "$S" list --app same)"
