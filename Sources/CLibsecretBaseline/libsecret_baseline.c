#define SECRET_API_SUBJECT_TO_CHANGE 1
#include <libsecret/secret.h>
#include "libsecret_baseline.h"

static const SecretSchema *schema(void) {
    static const SecretSchema value = {
        "dev.securestore.Item", SECRET_SCHEMA_NONE,
        {
            { "application", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "key", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "accessible", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { "synchronizable", SECRET_SCHEMA_ATTRIBUTE_STRING },
            { NULL, 0 },
        }
    };
    return &value;
}

static int check(GError *error) {
    if (error == NULL) return 0;
    g_error_free(error);
    return -1;
}

int baseline_store(const char *application, const char *service, const char *key, const char *value) {
    GError *error = NULL;
    secret_password_store_sync(schema(), SECRET_COLLECTION_DEFAULT, key, value, NULL, &error,
                               "application", application, "service", service, "key", key,
                               "accessible", "WHEN_UNLOCKED", "synchronizable", "false", NULL);
    return check(error);
}

int baseline_lookup(const char *application, const char *service, const char *key, int *found) {
    GError *error = NULL;
    gchar *value = secret_password_lookup_sync(schema(), NULL, &error, "application", application,
                                               "service", service, "key", key, "synchronizable", "false", NULL);
    *found = value != NULL;
    secret_password_free(value);
    return check(error);
}

int baseline_clear(const char *application, const char *service, const char *key) {
    GError *error = NULL;
    secret_password_clear_sync(schema(), NULL, &error, "application", application, "service", service,
                               "key", key, "synchronizable", "false", NULL);
    return check(error);
}

int baseline_search_all(const char *application, const char *service, int *count) {
    GError *error = NULL;
    GList *items = secret_password_search_sync(schema(), SECRET_SEARCH_ALL, NULL, &error,
                                               "application", application, "service", service, NULL);
    *count = (int)g_list_length(items);
    g_list_free_full(items, g_object_unref);
    return check(error);
}
