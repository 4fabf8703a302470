"""The double's searches and reads, and the faults it injects into them."""
from gi.repository import Gio, GLib

from .bus import COLLECTION_PATH, LATE_COLLECTION, LOCKED_DUPLICATE, SERVICE


class Searches:
    """SearchItems, GetSecrets and the calls around them, for FakeService."""

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
        if self.silently_locked:
            self.dropped.append(invocation)  # held until an unlock nobody asks for, as KeePassXC holds it
            return
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
        hidden = self.arguments.stays_locked or self.silently_locked
        invocation.return_value(GLib.Variant("(ao)", ([] if hidden else found,)))

    def on_Unlock(self, path, arguments, invocation):
        """Says every object is unlocked, without a prompt (with --stays-locked, falsely), or
        with --refuse-unlock that none is, as after a dismissed unlock dialog; with
        --unlock-prompt, answers with a prompt (its dialog)."""
        if self.arguments.unlock_prompt:
            prompt, _ = self.new_prompt()
            self.unlock_prompts.add(prompt)
            invocation.return_value(GLib.Variant("(aoo)", ([], prompt)))
            return
        invocation.return_value(GLib.Variant("(aoo)", ([] if self.arguments.refuse_unlock else arguments[0], "/")))

    def on_GetSecrets(self, path, arguments, invocation):
        paths, session = arguments
        if self.arguments.vanishing_secrets:
            raise LookupError("No such item (it was replaced)")
        if self.silently_locked:
            raise LookupError("No such item (the database is locked)")
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
        self.secrets_read += 1
        if self.secrets_read == self.arguments.silent_lock_after:
            # Locks after this answer, as KeePassXC's idle lock can: its items gone and its
            # searches held before any signal says so (here, none ever does).
            self.silently_locked = True
            print("locked silently", flush=True)
        if self.arguments.hold_garbled and any(self.items.get(item_path, {}).get("garbled") for item_path in answer):
            GLib.timeout_add(self.arguments.hold_garbled, lambda: invocation.return_value(reply) and False)
        else:
            invocation.return_value(reply)

    def on_ReadAlias(self, path, arguments, invocation):
        invocation.return_value(GLib.Variant("(o)", (COLLECTION_PATH,)))

    def forge_reply(self, invocation):
        """From another connection: a reply to the caller's serial that names a made-up item."""
        call_message = invocation.get_message()
        reply = Gio.DBusMessage.new_method_reply(call_message)
        reply.set_body(GLib.Variant("(aoao)", ([COLLECTION_PATH + "/forged"], [])))
        self.forger.send_message(reply, Gio.DBusSendMessageFlags.NONE)
