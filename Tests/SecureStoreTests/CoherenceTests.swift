import Foundation
import Testing

/// `getItem` reads a remembered item path in one round trip (see `ItemPathMemory`). The
/// promise: once another process's write or delete has returned, no later `getItem` in this
/// process returns the old value.
@Suite("Remembered item paths stay coherent", TestSelection(), .tags(.keyring, .slow))
struct CoherenceTests {
    /// One long-lived reader process (StressProbe reader) is asked for keys between changes
    /// that other processes make: `secret-tool` overwrites in place, SecureStore overwrites with
    /// a new accessibility (a new item) and in place, edits of an item's attributes over D-Bus,
    /// deletes, and every 25 rounds a lock and a daemon restart. Each change has returned before
    /// the reader is asked (twice: the first read may search and remember, the second reads
    /// the remembered path). No read may return anything but the keyring's state at that point.
    @Test func noReadReturnsAValueOlderThanAChangeThatReturned() async throws {
        let outcome = try await Subprocess.inPrivateKeyring(#"""
            app=coherence
            coproc READER { "$PROBE" reader --app $app --timeout 10; }
            ask() { echo "get $1" >&"${READER[1]}"; local answer; IFS= read -r -t 30 answer <&"${READER[0]}" || answer="$1 !no-answer"; echo "${answer#* }"; }
            attrs() { echo xdg:schema dev.securestore.Item application $app service app key "$1" synchronizable false; }
            item_path() {
              gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
                --method org.freedesktop.Secret.Service.SearchItems "{'application': '$app', 'key': '$1'}" |
                grep -o "/org/freedesktop/secrets/collection/[^']*" | head -1
            }
            changes=0; checks=0; stale=0
            changed() { changes=$((changes + 1)); }
            # Reads twice; reports the operation, never the values.
            check() {
              local got
              for read in 1 2; do
                got=$(ask "$1"); checks=$((checks + 1))
                [ "$got" = "$2" ] || { stale=$((stale + 1)); echo "unexpected: round $round after $3, read $read" >&2; }
              done
            }
            replacement=
            for round in $(seq 1 "${ROUNDS:-300}"); do
              key=k$((round % 4))
              printf "a$round" | secret-tool store --label=t $(attrs $key) accessible WHEN_UNLOCKED; changed
              check $key "a$round" "secret-tool store"
              printf "b$round" | "$SECURESTORE" set $key --app $app --accessible AFTER_FIRST_UNLOCK; changed
              check $key "b$round" "set with a new accessibility"
              printf "c$round" | "$SECURESTORE" set $key --app $app --accessible AFTER_FIRST_UNLOCK; changed
              check $key "c$round" "set in place"
              path=$(item_path $key)
              gdbus call --session --dest org.freedesktop.secrets --object-path "$path" \
                --method org.freedesktop.DBus.Properties.Set org.freedesktop.Secret.Item Attributes \
                "<{'xdg:schema': 'dev.securestore.Item', 'application': '$app', 'service': 'app', 'key': 'moved-$key', 'accessible': 'AFTER_FIRST_UNLOCK', 'synchronizable': 'false'}>" >/dev/null; changed
              check $key nil "an attribute edit"
              check moved-$key "c$round" "an attribute edit (new key)"
              secret-tool clear $(attrs moved-$key); changed
              check moved-$key nil "secret-tool clear (new key)"
              printf "e$round" | secret-tool store --label=t $(attrs $key) accessible WHEN_UNLOCKED; changed
              check $key "e$round" "secret-tool store (new item)"
              if [ $((round % 25)) = 0 ]; then
                gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
                  --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null; changed
                check $key "!ERR_INTERACTION_NOT_ALLOWED" "a lock"
                [ -n "$replacement" ] && kill $replacement 2>/dev/null
                gnome-keyring-daemon --replace --foreground --unlock --components=secrets < <(printf %s "$KEYRING_PASSWORD") >/dev/null 2>&1 &
                replacement=$!; changed
                gdbus wait --session --timeout 5 org.freedesktop.secrets; sleep 0.3
                check $key "e$round" "a daemon restart (unlocked)"
              fi
              secret-tool clear $(attrs $key); changed
              check $key nil "secret-tool clear"
            done
            echo stats >&"${READER[1]}"; IFS= read -r -t 30 stats <&"${READER[0]}"
            echo "changes=$changes checks=$checks stale=$stale $stats"
            [ -n "$replacement" ] && kill $replacement 2>/dev/null
            reader=$READER_PID
            exec {READER[1]}>&-
            wait $reader
            true
            """#, environment: ["PROBE": ReliabilityTests.probe])
        let summary = outcome.standardOutput.split(separator: "\n").last { $0.hasPrefix("changes=") } ?? ""
        let fields = Dictionary(summary.split(separator: " ").compactMap { field -> (String, Int)? in
            let parts = field.split(separator: "=")
            guard parts.count == 2, let number = Int(parts[1]) else { return nil }
            return (String(parts[0]), number)
        }, uniquingKeysWith: { $1 })
        let context = "\(summary)\n\(outcome.standardError.suffix(3000))"
        #expect(fields["stale"] == 0, "\(context)")
        #expect((fields["changes"] ?? 0) >= 2000, "\(context)")
        // The one-round-trip path was really taken, for about every second read.
        #expect((fields["remembered"] ?? 0) >= (fields["checks"] ?? 0) / 4, "\(context)")
    }
}
