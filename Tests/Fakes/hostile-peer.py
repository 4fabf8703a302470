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
                        [--silent-set-secret] [--collection-signals N] [--prompts WHEN] [--delete-prompts ANSWER]
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
"""
import argparse
import ctypes
import os
import secrets
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402
from cryptography.hazmat.primitives import hashes, padding  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

SERVICE = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
COLLECTION_PATH = "/org/freedesktop/secrets/collection/login"
LOCKED_DUPLICATE = "/org/freedesktop/secrets/collection/other/1"
LATE_COLLECTION = "/org/freedesktop/secrets/collection/late"
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
    """Enough of the Secret Service for SecureStore: encrypted sessions, items in memory."""

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
        <method name="Unlock"><arg type="ao" direction="in"/><arg type="ao" direction="out"/>
          <arg type="o" direction="out"/></method>
        <property name="Collections" type="ao" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Collection">
        <method name="SearchItems"><arg type="a{ss}" direction="in"/><arg type="ao" direction="out"/></method>
        <method name="CreateItem"><arg type="a{sv}" direction="in"/><arg type="(oayays)" direction="in"/>
          <arg type="b" direction="in"/><arg type="o" direction="out"/><arg type="o" direction="out"/></method>
        <property name="Locked" type="b" access="read"/>
        <property name="Label" type="s" access="read"/>
        <property name="Items" type="ao" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Item">
        <method name="SetSecret"><arg type="(oayays)" direction="in"/></method>
        <method name="Delete"><arg type="o" direction="out"/></method>
        <property name="Attributes" type="a{ss}" access="readwrite"/>
        <property name="Label" type="s" access="read"/>
        <property name="Locked" type="b" access="read"/>
        <property name="Created" type="t" access="read"/>
        <property name="Modified" type="t" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Prompt">
        <method name="Prompt"><arg type="s" direction="in"/></method>
        <method name="Dismiss"/>
      </interface>
    </node>"""

    def __init__(self, arguments):
        self.arguments = arguments
        self.connection = bus()
        self.forger = Gio.DBusConnection.new_for_address_sync(
            Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None),
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.keys = {}  # session path -> AES key, None for a plain session
        self.items = {}  # item path -> {"attributes", "label", "secret", "registration"}
        self.created = 0
        self.prompts = 0
        self.announced_writes = 0
        self.pending_prompts = {}  # prompt path -> (registration, collection path, CreateItem's arguments)
        self.pending_deletes = {}  # prompt path -> (registration, item path), with --delete-prompts
        self.writes = 0
        self.bad_sessions = set()
        self.searches_to_fail = 0
        self.handed_over = False
        self.collection_searches = 0
        self.late_collection_open = False
        # A session some other client opened, with a key this one never shares.
        self.foreign_sessions = {f"{SERVICE_PATH}/session/s1"} if arguments.foreign_session else set()
        for session in self.foreign_sessions:
            self.keys[session] = os.urandom(16)
        self.dropped = []
        self.info = Gio.DBusNodeInfo.new_for_xml(self.XML)
        for path, interface in [(SERVICE_PATH, self.info.interfaces[0]), (COLLECTION_PATH, self.info.interfaces[1]),
                                ("/org/freedesktop/secrets/aliases/default", self.info.interfaces[1]),
                                (LATE_COLLECTION, self.info.interfaces[1])]:
            self.connection.register_object(path, interface, self.method, self.property, None)

    def property(self, connection, sender, path, interface, name):
        item = self.items.get(path)
        if item is not None:
            return {"Attributes": GLib.Variant("a{ss}", item["attributes"]), "Label": GLib.Variant("s", item["label"]),
                    "Locked": GLib.Variant("b", False), "Created": GLib.Variant("t", item["created"]),
                    "Modified": GLib.Variant("t", item["modified"])}.get(name)
        collections = [COLLECTION_PATH] + ([LATE_COLLECTION] if self.late_collection_open else [])
        return {"Collections": GLib.Variant("ao", collections), "Locked": GLib.Variant("b", self.arguments.stays_locked),
                "Label": GLib.Variant("s", "Login"), "Items": GLib.Variant("ao", list(self.items))}.get(name)

    def set_property(self, connection, sender, path, interface, name, value):
        """An item's Attributes, as KeePassXC sets them: announced as the item changed."""
        if path not in self.items:
            return False
        self.items[path]["attributes"] = dict(value.unpack())
        print("attributes set", flush=True)
        self.announce("ItemChanged", path)
        return True

    def method(self, connection, sender, path, interface, method, parameters, invocation):
        if method in self.arguments.drop_replies:
            self.dropped.append(invocation)  # kept, never answered
            return
        if interface == "org.freedesktop.Secret.Collection" and method == "SearchItems":
            method = "CollectionSearchItems"
        handler = getattr(self, "on_" + method, None)
        if handler is None:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)
            return
        try:
            handler(path, parameters.unpack(), invocation)
        except LookupError as error:
            invocation.return_dbus_error("org.freedesktop.Secret.Error.NoSuchObject", str(error))

    # Sessions: dh-ietf1024-sha256-aes128-cbc-pkcs7 as libsecret speaks it (RFC 2409's group 2,
    # HKDF-SHA256 with no salt and no info to 16 bytes, AES-128-CBC with PKCS #7 padding).

    def on_OpenSession(self, path, arguments, invocation):
        algorithm, client_public = arguments
        session = f"{SERVICE_PATH}/session/s{len(self.keys) + 1}"
        first, count = self.arguments.bad_sessions
        if first <= len(self.keys) + 1 < first + count:
            self.bad_sessions.add(session)
        if algorithm == AES and not self.arguments.plain_only:
            private = secrets.randbelow(PRIME - 3) + 2
            shared = pow(int.from_bytes(bytes(client_public), "big"), private, PRIME).to_bytes(128, "big")
            self.keys[session] = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=None).derive(shared)
            public = pow(2, private, PRIME).to_bytes(128, "big")
            invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("ay", public), session)))
        elif algorithm == "plain":
            self.keys[session] = None
            invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("s", ""), session)))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.NotSupported", "Algorithm not supported")

    def decrypt(self, secret):
        session, parameters, value, content_type = secret
        if session in self.foreign_sessions:
            # Decrypted with the other client's key: bytes nobody wrote (as if the padding fit).
            return bytes(value), content_type
        key = self.keys[session]
        if key is None:
            return bytes(value), content_type
        decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(parameters))).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        plain = decryptor.update(bytes(value)) + decryptor.finalize()
        return unpadder.update(plain) + unpadder.finalize(), content_type

    def encrypt(self, session, secret, content_type):
        key = self.keys[session]
        if key is None:
            return (session, [], list(secret), content_type)
        if session in self.bad_sessions and self.arguments.bad_sessions_decrypt:
            secret = os.urandom(len(secret) or 1)
        elif self.arguments.garble_secrets or session in self.bad_sessions:
            # Ciphertext that decrypts, under the session's own key, to a block whose last byte
            # is 0: never valid PKCS #7 padding. (Random bytes would decrypt to valid padding
            # about once in 256, and be taken for a value: the algorithm has no MAC.)
            iv = os.urandom(16)
            encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            value = encryptor.update(os.urandom(15) + b"\x00") + encryptor.finalize()
            return (session, list(iv), list(value), content_type)
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        value = encryptor.update(padder.update(secret) + padder.finalize()) + encryptor.finalize()
        return (session, list(iv), list(value), content_type)

    def store(self, item, secret):
        """Keeps a written secret; while --garble-writes says so, garbled, as KWallet before
        6.25 does when its session key differs from the client's, while the call succeeds."""
        self.writes += 1
        if secret[0] in self.bad_sessions or self.counts(self.arguments.refuse_writes):
            item["secret"] = (item.get("secret", (b"", ""))[0], secret[3])
            print("refused", flush=True)
            return False
        value, content_type = self.decrypt(secret)
        garbled = self.counts(self.arguments.garble_writes)
        if garbled:
            value = bytes(byte ^ 0x5A for byte in value) + b"?"
            print("garbled", flush=True)
        item["secret"] = (value, content_type)
        item["modified"] = int(time.time())
        item["garbled"] = garbled
        item["drop_next_read"] = self.counts(self.arguments.drop_read_backs)
        self.searches_to_fail = self.arguments.fail_searches_after_write
        return True

    def counts(self, writes):
        first, count = writes
        return first <= self.writes < first + count

    def refuse(self, invocation, secret):
        invocation.return_dbus_error("org.freedesktop.DBus.Error.InvalidObjectPath", f"Can't find session {secret[0]}")

    def announce(self, signal, item_path):
        count, only = self.arguments.collection_signals
        if signal != "ItemDeleted":
            self.announced_writes += 1
        if only and (signal == "ItemDeleted" or self.announced_writes != only):
            count = 0
        for _ in range(count):
            self.connection.emit_signal(None, SERVICE_PATH, "org.freedesktop.Secret.Service", "CollectionChanged",
                                        GLib.Variant("(o)", (COLLECTION_PATH,)))
        self.connection.emit_signal(None, COLLECTION_PATH, "org.freedesktop.Secret.Collection", signal,
                                    GLib.Variant("(o)", (item_path,)))
        if self.arguments.echo_changes and signal != "ItemDeleted":
            GLib.timeout_add(self.arguments.echo_changes, lambda: self.echo(item_path))

    def echo(self, item_path):
        if item_path in self.items:
            self.connection.emit_signal(None, COLLECTION_PATH, "org.freedesktop.Secret.Collection", "ItemChanged",
                                        GLib.Variant("(o)", (item_path,)))
        return False

    # Items.

    def on_SearchItems(self, path, arguments, invocation):
        if self.searches_to_fail > 0:
            self.searches_to_fail -= 1
            invocation.return_dbus_error("org.freedesktop.DBus.Error.Failed", "Too busy to search")
            return
        if self.arguments.hand_over_on_search and not self.handed_over:
            # Gives up the service's name (to whoever waits for it) before it answers.
            self.handed_over = True
            self.connection.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ReleaseName",
                                      GLib.Variant("(s)", (SERVICE,)), None, Gio.DBusCallFlags.NONE, -1, None)
            print("handed over", flush=True)
        wanted = arguments[0]
        found = [item_path for item_path, item in self.items.items()
                 if all(item["attributes"].get(name) == value for name, value in wanted.items())]
        if self.arguments.garble_secrets:
            found = found or [COLLECTION_PATH + "/1"]
        if self.arguments.stays_locked:
            found = []  # a keyring never unlocked since its daemon started hides its items
        locked = [LOCKED_DUPLICATE] if self.arguments.locked_duplicate else []
        if self.arguments.forge_replies:
            self.forge_reply(invocation)
            GLib.timeout_add(1000, lambda: invocation.return_value(GLib.Variant("(aoao)", (found, []))) and False)
        else:
            invocation.return_value(GLib.Variant("(aoao)", (found, locked)))

    def on_CollectionSearchItems(self, path, arguments, invocation):
        self.collection_searches += 1
        if self.collection_searches == self.arguments.late_collection:
            self.late_collection_open = True
            print("late collection", flush=True)
        holds_items = (path == LATE_COLLECTION) == self.late_collection_open
        found = [item_path for item_path, item in self.items.items()
                 if holds_items and all(item["attributes"].get(name) == value for name, value in arguments[0].items())]
        invocation.return_value(GLib.Variant("(ao)", ([] if self.arguments.stays_locked else found,)))

    def on_Unlock(self, path, arguments, invocation):
        """Says every object is unlocked, without a prompt (with --stays-locked, falsely), or
        with --refuse-unlock that none is, as after a dismissed unlock dialog."""
        invocation.return_value(GLib.Variant("(aoo)", ([] if self.arguments.refuse_unlock else arguments[0], "/")))

    def on_GetSecrets(self, path, arguments, invocation):
        paths, session = arguments
        if self.arguments.vanishing_secrets:
            raise LookupError("No such item (it was replaced)")
        dropping = [item_path for item_path in paths if self.items.get(item_path, {}).get("drop_next_read")]
        if dropping:
            for item_path in dropping:
                self.items[item_path]["drop_next_read"] = False
            print("dropped a read-back", flush=True)
            self.dropped.append(invocation)  # kept, never answered
            return
        answer = {}
        for item_path in paths:
            if self.arguments.garble_secrets:
                answer[item_path] = self.encrypt(session, b"", "text/plain")
            elif item_path in self.items:
                answer[item_path] = self.encrypt(session, *self.items[item_path]["secret"])
        reply = GLib.Variant("(a{o(oayays)})", (answer,))
        if self.arguments.hold_garbled and any(self.items.get(item_path, {}).get("garbled") for item_path in answer):
            GLib.timeout_add(self.arguments.hold_garbled, lambda: invocation.return_value(reply) and False)
        else:
            invocation.return_value(reply)

    def on_ReadAlias(self, path, arguments, invocation):
        invocation.return_value(GLib.Variant("(o)", (COLLECTION_PATH,)))

    def on_CreateItem(self, path, arguments, invocation):
        if self.arguments.prompts:
            # As KeePassXC: nothing is made until the prompt runs.
            self.prompts += 1
            prompt = f"{SERVICE_PATH}/prompt/p{self.prompts}"
            registration = self.connection.register_object(prompt, self.info.interfaces[3], self.method, self.property, None)
            self.pending_prompts[prompt] = (registration, path, arguments)
            print(f"prompts pending={len(self.pending_prompts)}", flush=True)
            invocation.return_value(GLib.Variant("(oo)", ("/", prompt)))
            return
        self.create_item(path, arguments, invocation)

    def on_Prompt(self, path, arguments, invocation):
        invocation.return_value(None)
        if path in self.pending_deletes:
            GLib.timeout_add(50, lambda: self.complete_delete_prompt(path))
            return
        if self.arguments.prompts == "never":
            return
        if self.arguments.prompts == "forge":
            # From another connection, to the caller and to everyone: "dismissed".
            for destination in [invocation.get_sender(), None]:
                self.forger.emit_signal(destination, path, "org.freedesktop.Secret.Prompt", "Completed",
                                        GLib.Variant("(bv)", (True, GLib.Variant("s", ""))))
            self.forger.flush_sync(None)
        GLib.timeout_add(0 if self.arguments.prompts == "soon" else 200, lambda: self.complete_prompt(path))

    def complete_prompt(self, prompt):
        registration, collection, arguments = self.pending_prompts.pop(prompt)
        self.connection.unregister_object(registration)
        made = []
        self.create_item(collection, arguments, None, made)
        self.connection.emit_signal(None, prompt, "org.freedesktop.Secret.Prompt", "Completed",
                                    GLib.Variant("(bv)", (not made, GLib.Variant("o", made[0] if made else "/"))))
        return False

    def complete_delete_prompt(self, prompt):
        """--delete-prompts: "yes" deletes the item; "no" and "dismiss" keep it, saying "dismissed" only for
        "dismiss" (KeePassXC 2.7.4 says "dismissed" for a refusal; older KeePassXC's DeleteItemPrompt
        completes as not dismissed whatever the answer)."""
        registration, item_path = self.pending_deletes.pop(prompt)
        self.connection.unregister_object(registration)
        confirmed = self.arguments.delete_prompts == "yes"
        if confirmed and item_path in self.items:
            self.delete_item(item_path)
        print("delete " + ("confirmed" if confirmed else "refused"), flush=True)
        self.connection.emit_signal(None, prompt, "org.freedesktop.Secret.Prompt", "Completed",
                                    GLib.Variant("(bv)", (self.arguments.delete_prompts == "dismiss", GLib.Variant("s", ""))))
        return False

    def on_Dismiss(self, path, arguments, invocation):
        print("dismissed", flush=True)
        invocation.return_value(None)
        pending = self.pending_prompts if path in self.pending_prompts else self.pending_deletes
        if path in pending:
            self.connection.unregister_object(pending.pop(path)[0])
            self.connection.emit_signal(None, path, "org.freedesktop.Secret.Prompt", "Completed",
                                        GLib.Variant("(bv)", (True, GLib.Variant("s", ""))))

    def create_item(self, path, arguments, invocation, made=None):
        """CreateItem's work: answers `invocation`, or (from a prompt) appends the item to `made`."""
        properties, secret, replace = arguments
        attributes = dict(properties.get("org.freedesktop.Secret.Item.Attributes", {}))
        label = properties.get("org.freedesktop.Secret.Item.Label", "")
        existing = [item_path for item_path, item in self.items.items() if item["attributes"] == attributes]
        if replace and existing:
            item_path = existing[0]
            signal = "ItemChanged"
        else:
            signal = "ItemCreated"
            self.created += 1
            item_path = f"{COLLECTION_PATH}/{self.created}"
            # Times in seconds, as the real services count them.
            now = int(time.time())
            self.items[item_path] = {"created": now, "modified": now, "registration": self.connection.register_object(
                item_path, self.info.interfaces[2], self.method, self.property, self.set_property)}
        self.items[item_path].update(attributes=attributes, label=label)
        if self.store(self.items[item_path], secret):
            if invocation is not None:
                invocation.return_value(GLib.Variant("(oo)", (item_path, "/")))
            else:
                made.append(item_path)
            self.announce(signal, item_path)
        elif invocation is not None:
            self.refuse(invocation, secret)

    def on_SetSecret(self, path, arguments, invocation):
        if self.store(self.items[path], arguments[0]):
            invocation.return_value(None)
            if not self.arguments.silent_set_secret:
                self.announce("ItemChanged", path)
        else:
            self.refuse(invocation, arguments[0])

    def on_Delete(self, path, arguments, invocation):
        if path not in self.items:
            raise LookupError("No such item")
        if self.arguments.delete_prompts:
            # As KeePassXC with "confirm delete": nothing is deleted until the prompt runs.
            self.prompts += 1
            prompt = f"{SERVICE_PATH}/prompt/p{self.prompts}"
            registration = self.connection.register_object(prompt, self.info.interfaces[3], self.method, self.property, None)
            self.pending_deletes[prompt] = (registration, path)
            invocation.return_value(GLib.Variant("(o)", (prompt,)))
            return
        self.delete_item(path)
        invocation.return_value(GLib.Variant("(o)", ("/",)))

    def delete_item(self, path):
        item = self.items.pop(path)
        self.connection.unregister_object(item["registration"])

    def forge_reply(self, invocation):
        """From another connection: a reply to the caller's serial that names a made-up item."""
        call_message = invocation.get_message()
        reply = Gio.DBusMessage.new_method_reply(call_message)
        reply.set_body(GLib.Variant("(aoao)", ([COLLECTION_PATH + "/forged"], [])))
        self.forger.send_message(reply, Gio.DBusSendMessageFlags.NONE)


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
    serving.add_argument("--collection-signals", type=lambda text: tuple(int(part) for part in (text.split(":") + ["0"])[:2]),
                         default=(0, 0), metavar="N[:K]")
    serving.add_argument("--prompts", choices=["later", "soon", "forge", "never"])
    serving.add_argument("--delete-prompts", choices=["yes", "no", "dismiss"])
    serving.add_argument("--locked-duplicate", action="store_true")
    serving.add_argument("--late-collection", type=int, default=0, metavar="N")
    arguments = parser.parse_args()
    {"forge": forge, "serve": serve}[arguments.command](arguments)


if __name__ == "__main__":
    main()
