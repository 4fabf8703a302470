#!/usr/bin/python3
"""A hostile peer on the session bus, for the tests that prove only the real service speaks.

  hostile-peer.py forge --pid PID --app APP --key KEY
      Sends, to every bus connection of process PID (found as an attacker would: ListNames and
      GetConnectionUnixProcessID), unicast signals that lie: the Secret Service's name lost its
      owner, the item holding KEY was deleted, a new item was created. Then the same broadcast.
      Prints "forged N" with the number of connections reached.

  hostile-peer.py serve [--plain-only] [--forge-replies] [--garble-secrets] [--garble-writes FIRST:COUNT]
                        [--hold-garbled MS] [--refuse-writes FIRST:COUNT] [--bad-sessions FIRST:COUNT] [--name NAME]
                        [--drop-replies METHOD] [--fail-searches-after-write N] [--echo-changes MS]
                        [--silent-set-secret] [--refuse-attributes] [--collection-signals N] [--prompts WHEN]
                        [--delete-prompts ANSWER] [--forge-deletes] [--frozen-clock]
                        [--portal-version N]
      A fake Secret Service owning org.freedesktop.secrets: one unlocked collection, items kept in
      memory, secrets sent in encrypted sessions as libsecret negotiates them; announces each new
      or overwritten item (ItemCreated, ItemChanged), as the real services do.
      --plain-only refuses dh-ietf1024-sha256-aes128-cbc-pkcs7 sessions (only "plain" is offered).
      --forge-replies answers SearchItems one second late, and meanwhile sends the caller, from
      a second connection, a reply with the same serial naming an item that does not exist.
      --garble-secrets finds one item for every search, and answers GetSecrets with a secret whose
      padding never checks out.
      --garble-writes FIRST:COUNT stores writes FIRST to FIRST+COUNT-1 (counting from 1) as other
      bytes while reporting success, as KWallet does when its session key went wrong.
      --hold-garbled MS answers a GetSecrets that carries such bytes MS milliseconds late, so
      that a write's read-back finds its garbage only after other calls have seen it.
      --refuse-writes FIRST:COUNT answers writes FIRST to FIRST+COUNT-1 "Can't find session", as
      KWallet does when it cannot decrypt the secret: CreateItem has then already made the item
      (holding no secret), SetSecret has recorded the new content type.
      --bad-sessions FIRST:COUNT makes sessions FIRST to FIRST+COUNT-1 (counting from 1) derive
      another key than the client, as KWallet before 6.25 sometimes does: their secrets never
      decrypt, and writes in them are refused as above.
      --bad-sessions-decrypt makes those sessions' secrets decrypt after all, to random bytes
      (new ones at each reading), as one garbled secret in 256 does.
      Each refused write prints "refused", each garbled one "garbled".
      --name NAME shows the process as NAME (kwalletd5 makes SecureStore treat it as KWallet).
      --own BUS_NAME also owns BUS_NAME (org.kde.kwalletd5 makes SecureStore treat it as KWallet).
      --drop-replies METHOD never answers calls of METHOD (repeatable).
      --fail-searches-after-write N fails the N SearchItems calls that follow each write
      (org.freedesktop.DBus.Error.Failed), as a service too busy to answer does.
      --echo-changes MS announces each written item once more as changed, MS milliseconds
      later, as KeePassXC announces a write many times over.
      --silent-set-secret announces no SetSecret, as KeePassXC 2.7.4 sometimes does under load.
      --refuse-attributes refuses every Properties.Set of an item's Attributes, as a database
      locked meanwhile would.
      --frozen-clock gives every item the same Created and Modified time, as two items made within
      one second of the service's clock have.
      --collection-signals N[:K] sends N CollectionChanged with each write's announcement (with
      :K, the K-th write's only), as KeePassXC does (one with every item it creates or deletes)
      while other clients write.
      --prompts WHEN answers CreateItem with a prompt and makes the item only when the prompt
      runs, as KeePassXC 2.7.4 does, printing "prompts pending=N" for each: "later" completes it
      200 ms after Prompt, "soon" at once; "forge" does as "later",
      after sending, from another connection, to the caller and to everyone, a Completed that
      says "dismissed"; "never" never completes it. Each Dismiss prints "dismissed".
      --delete-prompts ANSWER answers Item.Delete with a prompt, as KeePassXC does, which deletes
      nothing until it runs: "yes" then deletes the item; "no" keeps it and completes as not
      dismissed, as older KeePassXC does when a person refuses its dialog; "dismiss" keeps it and
      completes as dismissed, as the specification has it and KeePassXC 2.7.4 does. Each prints "delete confirmed" or
      "delete refused".
      --forge-deletes makes a refused delete's prompt lie first: another connection announces the
      item deleted (ItemDeleted, to the caller and to everyone) before the service completes the
      prompt. Prints "forged ItemDeleted".
      --forge-replies also delays the service's own SearchItems reply by a second.
      --locked-duplicate lists, in every search's locked paths, one more item of the key in a
      locked collection of its own, as a keyring another program filled would.
      --late-collection N opens a second collection (as KeePassXC does when a person opens another
      database) while answering the Nth Collection.SearchItems: from then on it is listed in
      Collections and holds every item, so the first collection's search finds none of them.
      --portal-version N also owns org.freedesktop.portal.Desktop, whose Secret interface
      reports version N and refuses every RetrieveSecret.
      Prints "ready" once the names are owned.

Uses Debian's python3-gi (GDBus) and python3-cryptography, so it runs under /usr/bin/python3.
The double's parts are in hostile_peer/ beside this script: the service's objects and dispatch
(service.py), sessions, searches, writes, prompts, the transfer algorithm, the portal, the forger.
"""
import argparse
import ctypes
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from hostile_peer.bus import SERVICE  # noqa: E402  (the package picks GDBus's version first)
from hostile_peer.forge import forge  # noqa: E402
from hostile_peer.portal import FakePortal  # noqa: E402
from hostile_peer.service import FakeService  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402


def serve(arguments):
    if arguments.name:
        # /proc/PID/comm, which SecureStore reads to tell providers apart.
        ctypes.CDLL(None).prctl(15, arguments.name.encode(), 0, 0, 0)
    service = FakeService(arguments)
    names = [SERVICE] + arguments.own
    if arguments.portal_version is not None:
        FakePortal(service.connection, arguments.portal_version)
        names.append("org.freedesktop.portal.Desktop")
    owned = []

    def acquired(*_):
        owned.append(True)
        if len(owned) == len(names):
            print("ready", flush=True)

    def lost(*_):
        # Another owner has the name: the request waits in the bus's queue.
        print("queued", flush=True)

    for name in names:
        Gio.bus_own_name_on_connection(service.connection, name, Gio.BusNameOwnerFlags.NONE, acquired, lost)
    GLib.MainLoop().run()



def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    forging = commands.add_parser("forge")
    forging.add_argument("--pid", type=int, required=True)
    forging.add_argument("--app", required=True)
    forging.add_argument("--key", required=True)
    serving = commands.add_parser("serve")
    serving.add_argument("--plain-only", action="store_true")
    serving.add_argument("--forge-replies", action="store_true")
    serving.add_argument("--garble-secrets", action="store_true")
    serving.add_argument("--portal-version", type=int)
    serving.add_argument("--name", help="the process name to show, e.g. kwalletd5")
    serving.add_argument("--own", action="append", default=[], metavar="BUS_NAME",
                         help="also own BUS_NAME, e.g. org.kde.kwalletd5 (repeatable)")
    serving.add_argument("--drop-replies", action="append", default=[], metavar="METHOD",
                         help="never answer calls of METHOD (repeatable)")
    writes = lambda text: tuple(map(int, text.split(":")))  # noqa: E731
    serving.add_argument("--garble-writes", type=writes, default=(0, 0), metavar="FIRST:COUNT")
    serving.add_argument("--hold-garbled", type=int, default=0, metavar="MS")
    serving.add_argument("--hand-over-on-search", action="store_true",
                         help="release org.freedesktop.secrets while answering the first SearchItems")
    serving.add_argument("--foreign-session", action="store_true",
                         help="session s1 is another client's: secrets sent on it are stored as the bytes received")
    serving.add_argument("--stays-locked", action="store_true",
                         help="the collection says it is locked and its search finds nothing, whatever Unlock answers")
    serving.add_argument("--refuse-unlock", action="store_true",
                         help="Unlock unlocks nothing, as when a person dismisses the unlock dialog")
    serving.add_argument("--unlock-prompt", choices=["vanish"],
                         help="Unlock answers with a prompt, and running it ends the double, as a daemon killed under its unlock dialog")
    serving.add_argument("--vanishing-secrets", action="store_true",
                         help="every GetSecrets says its item no longer exists, while searches still find it")
    serving.add_argument("--drop-read-backs", type=writes, default=(0, 0), metavar="FIRST:COUNT",
                         help="never answer the first GetSecrets of the item each of these writes made")
    serving.add_argument("--refuse-writes", type=writes, default=(0, 0), metavar="FIRST:COUNT")
    serving.add_argument("--bad-sessions", type=writes, default=(0, 0), metavar="FIRST:COUNT")
    serving.add_argument("--bad-sessions-decrypt", action="store_true")
    serving.add_argument("--fail-searches-after-write", type=int, default=0, metavar="N")
    serving.add_argument("--echo-changes", type=int, default=0, metavar="MS")
    serving.add_argument("--silent-set-secret", action="store_true")
    serving.add_argument("--refuse-attributes", action="store_true")
    serving.add_argument("--frozen-clock", action="store_true")
    serving.add_argument("--collection-signals", type=lambda text: tuple(int(part) for part in (text.split(":") + ["0"])[:2]),
                         default=(0, 0), metavar="N[:K]")
    serving.add_argument("--prompts", choices=["later", "soon", "forge", "never"])
    serving.add_argument("--delete-prompts", choices=["yes", "no", "dismiss"])
    serving.add_argument("--forge-deletes", action="store_true")
    serving.add_argument("--locked-duplicate", action="store_true")
    serving.add_argument("--late-collection", type=int, default=0, metavar="N")
    serving.add_argument("--silent-lock-after", type=int, default=0, metavar="N",
                         help="lock after answering the Nth GetSecrets without a signal: items gone, searches held")
    arguments = parser.parse_args()
    {"forge": forge, "serve": serve}[arguments.command](arguments)


if __name__ == "__main__":
    main()
