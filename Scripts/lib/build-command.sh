# shellcheck shell=bash
# How the securestore command is built for daily use (Scripts/install) and measured
# (Scripts/benchmark): `build_command` leaves it at .build-static/release/securestore.
#
# - Release mode, with the Swift runtime linked in statically: the binary needs only libsecret
#   and GLib at run time, and starts in about half the time of a dynamically linked one (nearly
#   all of a dynamically linked Swift program's start-up is the dynamic linker resolving the
#   Swift runtime's symbols).
# - Type metadata reached through accessor functions instead of mangled names, which the
#   runtime would otherwise demangle at first use.
# - Linked by lld with packed relative relocations (DT_RELR): the position-independent binary
#   keeps its address randomization, and its 25,000 relocations take 5 KB to read instead of 600.
build_command() {
  swift build -c release --product securestore --static-swift-stdlib --scratch-path .build-static \
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xlinker -z -Xlinker pack-relative-relocs
}
