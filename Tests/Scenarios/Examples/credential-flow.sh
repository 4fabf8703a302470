#!/usr/bin/env bash
# CredentialFlow signs in, signs in again with the stored password, follows a changed one, signs out.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
start_credential_flow_server
flow=$SECURESTORE_BIN/CredentialFlow
stored() { "$S" get alice --app dev.securestore.CredentialFlow --service "$url"; }
echo "== first run"; echo first | "$flow" login --server "$url" --user alice
echo "stored=$(stored)"
echo "== second run"; "$flow" login --server "$url" --user alice < /dev/null
printf second > password
echo "== password changed on the server"; echo second | "$flow" login --server "$url" --user alice
echo "stored=$(stored)"
echo "== logout"; "$flow" logout --server "$url" --user alice
stored >/dev/null 2>&1; echo "get after logout=$?"
kill "$server"
