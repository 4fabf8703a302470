#ifndef SECURESTORE_CLIBSECRET_SHIM_H
#define SECURESTORE_CLIBSECRET_SHIM_H

// The D-Bus-path functions (secret-paths.h) are what let the backend tell a locked item from
// a missing one and skip libsecret's per-item proxies; they sit behind this define.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>
#include <gio/gio.h>
#include <pthread.h>

// glibc declares pthread_setname_np only under _GNU_SOURCE, which Swift's Glibc module lacks.
extern int pthread_setname_np(pthread_t thread, const char *name);

/// Names the calling thread (at most 15 bytes), for debuggers and profilers.
static inline void securestore_name_this_thread(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

#endif
