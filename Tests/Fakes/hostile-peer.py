#!/usr/bin/python3
"""A hostile peer on the session bus, for the tests that prove only the real service speaks.

  hostile-peer.py forge --pid PID --app APP --key KEY
      Sends, to every bus connection of process PID (found as an attacker would: ListNames and
      GetConnectionUnixProcessID), unicast signals that lie: the Secret Service's name lost its
      owner, the item holding KEY was deleted, a new item was created. Then the same broadcast.
      Prints "forged N" with the number of connections reached.

  hostile-peer.py serve [--plain-only] [--forge-replies] [--garble-secrets] [--portal-version N]
      A fake Secret Service owning org.freedesktop.secrets with one empty, unlocked collection.
      --plain-only refuses dh-ietf1024-sha256-aes128-cbc-pkcs7 sessions (only "plain" is offered).
      --forge-replies answers SearchItems one second late, and meanwhile sends the caller, from
      a second connection, a reply with the same serial naming an item that does not exist.
      --garble-secrets finds one item for every search, and answers GetSecrets with bytes no
      session key decrypts.
      --portal-version N also owns org.freedesktop.portal.Desktop, whose Secret interface
      reports version N and refuses every RetrieveSecret.
      Prints "ready" once the names are owned.

Uses Debian's python3-gi (GDBus), so it runs under /usr/bin/python3.
"""
import argparse
import os
import secrets
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

SERVICE = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
COLLECTION_PATH = "/org/freedesktop/secrets/collection/login"
AES = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
# RFC 2409's second Oakley group, the prime of the dh-ietf1024 session algorithm.
PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(connection, destination, path, interface, method, args, reply_type):
    return connection.call_sync(destination, path, interface, method, args, GLib.VariantType(reply_type),
                                Gio.DBusCallFlags.NONE, 5000, None).unpack()


def connections_of(connection, pid):
    names = call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "ListNames", None, "(as)")[0]
    found = []
    for name in names:
        if not name.startswith(":"):
            continue
        try:
            owner_pid = call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "GetConnectionUnixProcessID", GLib.Variant("(s)", (name,)), "(u)")[0]
        except GLib.Error:
            continue
        if owner_pid == pid:
            found.append(name)
    return found


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


class FakeService:
    """Just enough of the Secret Service for libsecret to connect and for reads to be asked."""

    XML = """
    <node>
      <interface name="org.freedesktop.Secret.Service">
        <method name="OpenSession"><arg type="s" direction="in"/><arg type="v" direction="in"/>
          <arg type="v" direction="out"/><arg type="o" direction="out"/></method>
        <method name="SearchItems"><arg type="a{ss}" direction="in"/>
          <arg type="ao" direction="out"/><arg type="ao" direction="out"/></method>
        <method name="GetSecrets"><arg type="ao" direction="in"/><arg type="o" direction="in"/>
          <arg type="a{o(oayays)}" direction="out"/></method>
        <method name="ReadAlias"><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
        <property name="Collections" type="ao" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Collection">
        <property name="Locked" type="b" access="read"/>
        <property name="Label" type="s" access="read"/>
        <property name="Items" type="ao" access="read"/>
      </interface>
    </node>"""

    def __init__(self, arguments):
        self.arguments = arguments
        self.connection = bus()
        self.forger = Gio.DBusConnection.new_for_address_sync(
            Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None),
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.sessions = 0
        info = Gio.DBusNodeInfo.new_for_xml(self.XML)
        for path, interface in [(SERVICE_PATH, info.interfaces[0]), (COLLECTION_PATH, info.interfaces[1]),
                                ("/org/freedesktop/secrets/aliases/default", info.interfaces[1])]:
            self.connection.register_object(path, interface, self.method, self.property, None)

    def property(self, connection, sender, path, interface, name):
        if name == "Collections":
            return GLib.Variant("ao", [COLLECTION_PATH])
        if name == "Locked":
            return GLib.Variant("b", False)
        if name == "Label":
            return GLib.Variant("s", "Login")
        if name == "Items":
            return GLib.Variant("ao", [])
        return None

    def method(self, connection, sender, path, interface, method, parameters, invocation):
        if method == "OpenSession":
            algorithm, _ = parameters.unpack()
            self.sessions += 1
            session = f"{SERVICE_PATH}/session/s{self.sessions}"
            if algorithm == AES and not self.arguments.plain_only:
                public = pow(2, secrets.randbelow(PRIME - 3) + 2, PRIME).to_bytes(128, "big")
                invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("ay", public), session)))
            elif algorithm == "plain":
                invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("s", ""), session)))
            else:
                invocation.return_dbus_error("org.freedesktop.DBus.Error.NotSupported", "Algorithm not supported")
        elif method == "SearchItems":
            if self.arguments.forge_replies:
                self.forge_reply(invocation)
                GLib.timeout_add(1000, lambda: invocation.return_value(GLib.Variant("(aoao)", ([], []))) and False)
            else:
                found = [COLLECTION_PATH + "/1"] if self.arguments.garble_secrets else []
                invocation.return_value(GLib.Variant("(aoao)", (found, [])))
        elif method == "GetSecrets":
            paths, session = parameters.unpack()
            garbled = {
                item: (session, list(os.urandom(16)), list(os.urandom(32)), "text/plain")
                for item in paths if self.arguments.garble_secrets
            }
            invocation.return_value(GLib.Variant("(a{o(oayays)})", (garbled,)))
        elif method == "ReadAlias":
            invocation.return_value(GLib.Variant("(o)", (COLLECTION_PATH,)))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    def forge_reply(self, invocation):
        """From another connection: a reply to the caller's serial that names a made-up item."""
        call_message = invocation.get_message()
        reply = Gio.DBusMessage.new_method_reply(call_message)
        reply.set_body(GLib.Variant("(aoao)", ([COLLECTION_PATH + "/forged"], [])))
        self.forger.send_message(reply, Gio.DBusSendMessageFlags.NONE)


def serve(arguments):
    service = FakeService(arguments)
    names = [SERVICE]
    if arguments.portal_version is not None:
        FakePortal(service.connection, arguments.portal_version)
        names.append("org.freedesktop.portal.Desktop")
    owned = []

    def acquired(*_):
        owned.append(True)
        if len(owned) == len(names):
            print("ready", flush=True)

    for name in names:
        Gio.bus_own_name_on_connection(service.connection, name, Gio.BusNameOwnerFlags.NONE, acquired, None)
    GLib.MainLoop().run()


class FakePortal:
    XML = """
    <node>
      <interface name="org.freedesktop.portal.Secret">
        <method name="RetrieveSecret"><arg type="h" direction="in"/><arg type="a{sv}" direction="in"/>
          <arg type="o" direction="out"/></method>
        <property name="version" type="u" access="read"/>
      </interface>
    </node>"""

    def __init__(self, connection, version):
        self.version = version
        info = Gio.DBusNodeInfo.new_for_xml(self.XML)
        connection.register_object("/org/freedesktop/portal/desktop", info.interfaces[0], self.method, self.property, None)

    def property(self, connection, sender, path, interface, name):
        return GLib.Variant("u", self.version) if name == "version" else None

    def method(self, connection, sender, path, interface, method, parameters, invocation):
        invocation.return_dbus_error("org.freedesktop.portal.Error.NotAllowed", "This fake portal gives no key")


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
    arguments = parser.parse_args()
    {"forge": forge, "serve": serve}[arguments.command](arguments)


if __name__ == "__main__":
    main()
