#ifndef SECURESTORE_CLIBSECRET_SHIM_H
#define SECURESTORE_CLIBSECRET_SHIM_H

// The D-Bus-path functions (secret-paths.h) are what let the backend tell a locked item from
// a missing one and skip libsecret's per-item proxies; they sit behind this define.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>
#include <gio/gio.h>

#endif
