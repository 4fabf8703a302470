# shellcheck shell=bash
# How the securestore command is built for daily use (Scripts/install) and measured
# (Scripts/benchmark): `build_command` leaves it at .build-static/release/securestore.
#
# - Release mode, with the Swift runtime linked in statically: the binary needs only libsecret
#   and GLib at run time, and starts in about half the time of a dynamically linked one (nearly
#   all of a dynamically linked Swift program's start-up is the dynamic linker resolving the
#   Swift runtime's symbols).
# - The C++ library and libgcc that the Swift runtime uses, linked in statically too: loading,
#   relocating and initialising libstdc++.so and libgcc_s.so took about 0.7 ms of a `get`.
#   The runtime's link arguments name `-lstdc++`, so a folder holding only the static archive
#   goes first in the search path. Without the archive (no libstdc++-dev), they stay shared.
# - Type metadata reached through accessor functions instead of mangled names, which the
#   runtime would otherwise demangle at first use.
# - Linked by lld with packed relative relocations (DT_RELR): the position-independent binary
#   keeps its address randomization, and its 25,000 relocations take 5 KB to read instead of 600.
build_command() {
  local static_cxx=() archive
  archive=$(clang -print-file-name=libstdc++.a 2>/dev/null || true)
  if [ -f "$archive" ]; then
    mkdir -p .build-static/static-cxx
    ln -sf "$archive" .build-static/static-cxx/libstdc++.a
    static_cxx=(-Xlinker -L"$PWD/.build-static/static-cxx" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc)
  else
    echo "build-command: no libstdc++.a (libstdc++-12-dev): the command links the shared C++ library" >&2
  fi
  swift build -c release --product securestore --static-swift-stdlib --scratch-path .build-static \
    -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
    "${static_cxx[@]}"
}
