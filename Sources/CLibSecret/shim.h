#ifndef SECURESTORE_CLIBSECRET_SHIM_H
#define SECURESTORE_CLIBSECRET_SHIM_H

// The D-Bus-path functions (secret-paths.h) are what let the backend tell a locked item from
// a missing one and skip libsecret's per-item proxies; they sit behind this define.
#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <sys/inotify.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <gcrypt.h>
#include <string.h>

// glibc declares pthread_setname_np only under _GNU_SOURCE, which Swift's Glibc module lacks.
extern int pthread_setname_np(pthread_t thread, const char *name);

/// Names the calling thread (at most 15 bytes), for debuggers and profilers.
static inline void securestore_name_this_thread(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

/// Makes the process non-dumpable (no core file, no ptrace by other processes of the user) and
/// sets its core size limit to 0: a crash or SIGQUIT must not write a secret to disk. prctl is
/// variadic, which Swift cannot call. Returns 0, or -1 with errno set.
static inline int securestore_forbid_core_dumps(void) {
    struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/// Readies libgcrypt once per process, as libsecret does, unless it (or anyone) already has:
/// the file keyring's cipher, MAC and key derivation are libgcrypt's. Secure memory stays off
/// (it needs privileges); the file keyring wipes its own buffers. Returns 0 when libgcrypt is
/// older than the one built against.
static inline int securestore_gcrypt_ready(void) {
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) return 1;
    if (!gcry_check_version(GCRYPT_VERSION)) return 0;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return 1;
}

/// An HMAC-SHA256 handle keyed with `key`, reused for many messages (opening one costs more
/// than a short message's MAC). NULL on failure. Not for two threads at once.
static inline void *securestore_hmac_open(const void *key, size_t key_length) {
    gcry_md_hd_t handle;
    if (gcry_md_open(&handle, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0) return NULL;
    if (gcry_md_setkey(handle, key, key_length) != 0) { gcry_md_close(handle); return NULL; }
    return handle;
}

/// The HMAC of `data` into `mac` (32 bytes). Returns 0 on success.
static inline int securestore_hmac(void *handle, const void *data, size_t length, void *mac) {
    gcry_md_reset((gcry_md_hd_t)handle);
    gcry_md_write((gcry_md_hd_t)handle, data, length);
    const unsigned char *digest = gcry_md_read((gcry_md_hd_t)handle, GCRY_MD_SHA256);
    if (digest == NULL) return -1;
    memcpy(mac, digest, 32);
    return 0;
}

static inline void securestore_hmac_close(void *handle) { gcry_md_close((gcry_md_hd_t)handle); }

/// An AES-128-CBC handle keyed with `key` (16 bytes), reused for many items. NULL on failure.
/// Not for two threads at once.
static inline void *securestore_aes128_cbc_open(const void *key) {
    gcry_cipher_hd_t handle;
    if (gcry_cipher_open(&handle, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC, 0) != 0) return NULL;
    if (gcry_cipher_setkey(handle, key, 16) != 0) { gcry_cipher_close(handle); return NULL; }
    return handle;
}

/// Encrypts or decrypts `buffer` (a multiple of 16 bytes) in place with `iv` (16 bytes).
/// Returns 0 on success.
static inline int securestore_aes128_cbc(void *handle, int encrypt, const void *iv, void *buffer, size_t length) {
    gcry_cipher_hd_t cipher = (gcry_cipher_hd_t)handle;
    if (gcry_cipher_reset(cipher) != 0 || gcry_cipher_setiv(cipher, iv, 16) != 0) return -1;
    return (encrypt ? gcry_cipher_encrypt(cipher, buffer, length, NULL, 0) : gcry_cipher_decrypt(cipher, buffer, length, NULL, 0)) == 0 ? 0 : -1;
}

static inline void securestore_aes128_cbc_close(void *handle) { gcry_cipher_close((gcry_cipher_hd_t)handle); }

/// PBKDF2-HMAC-SHA256 of `password` with `salt` and `iterations` into `key` (`key_length`
/// bytes). Returns 0 on success.
static inline int securestore_pbkdf2_sha256(const void *password, size_t password_length, const void *salt, size_t salt_length,
                                            unsigned long iterations, void *key, size_t key_length) {
    return gcry_kdf_derive(password, password_length, GCRY_KDF_PBKDF2, GCRY_MD_SHA256, salt, salt_length,
                           iterations, key_length, key) == 0 ? 0 : -1;
}

#endif
