#!/usr/bin/env bash
# A write and a read with SECRET_BACKEND set to a backend libsecret does not have.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'v' | SECRET_BACKEND=bogus timeout "$(scaled 10)" "$S" set token --app env-test; echo "set=$?"
echo "get=$(SECRET_BACKEND=bogus timeout "$(scaled 10)" "$S" get token --app env-test)"
