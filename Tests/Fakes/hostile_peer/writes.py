"""The double's writes and deletes, how it announces them, and the faults it injects into them."""
import time

from gi.repository import GLib

from .bus import COLLECTION_PATH, SERVICE_PATH


class Writes:
    """CreateItem, SetSecret and Delete, for FakeService."""

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
        item["modified"] = self.now()
        item["garbled"] = garbled
        item["drop_next_read"] = self.counts(self.arguments.drop_read_backs)
        self.searches_to_fail = self.arguments.fail_searches_after_write
        return True

    def now(self):
        """An item's time: whole seconds, as the real services count them; with --frozen-clock always
        the same, so that every two items tie."""
        return 1_700_000_000 if self.arguments.frozen_clock else int(time.time())

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

    def on_CreateItem(self, path, arguments, invocation):
        if self.arguments.prompts:
            # As KeePassXC: nothing is made until the prompt runs.
            prompt, registration = self.new_prompt()
            self.pending_prompts[prompt] = (registration, path, arguments)
            print(f"prompts pending={len(self.pending_prompts)}", flush=True)
            invocation.return_value(GLib.Variant("(oo)", ("/", prompt)))
            return
        self.create_item(path, arguments, invocation)

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
            now = self.now()
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
            prompt, registration = self.new_prompt()
            self.pending_deletes[prompt] = (registration, path)
            invocation.return_value(GLib.Variant("(o)", (prompt,)))
            return
        self.delete_item(path)
        invocation.return_value(GLib.Variant("(o)", ("/",)))

    def delete_item(self, path):
        """Deletes the item and announces it, as the real services do."""
        item = self.items.pop(path)
        self.connection.unregister_object(item["registration"])
        self.announce("ItemDeleted", path)
