#ifndef SECURESTORE_LIBSECRET_BASELINE_H
#define SECURESTORE_LIBSECRET_BASELINE_H

#include <stddef.h>

// The floor any libsecret wrapper can reach: libsecret's own password calls, made from C, on
// items with SecureStore's schema and attributes. Each returns 0 on success, -1 on error.

int baseline_store(const char *application, const char *service, const char *key, const char *value);
// *found is 1 when an item was found; its value is checked against `expected` and freed.
int baseline_lookup(const char *application, const char *service, const char *key, int *found);
int baseline_clear(const char *application, const char *service, const char *key);
// libsecret's own search of every item of (application, service), unlocked, with attributes:
// what allKeys would cost through libsecret's item proxies. *count receives the number found.
int baseline_search_all(const char *application, const char *service, int *count);

#endif
