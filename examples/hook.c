/*
 * An issue-tracker action hook in C: at the end of a user's action it hands one notification
 * to en-notify and flushes the queue.
 *
 *   hook --db PATH [--smtp HOST:PORT]   deliver through an SMTP relay
 *   hook --db PATH [--pickup DIR]       or write .eml files into DIR (default ./pickup)
 *
 * Build: gcc -Wall -Wextra -Werror -std=c11 -I include examples/hook.c -o hook \
 *          -L target/release -len_notify -Wl,-rpath,target/release
 */
#include "en_notify.h"

#include <stdio.h>
#include <string.h>

static const char MESSAGE[] =
    "{\"from\":\"tracker@example.com\",\"to\":[\"dev@example.com\"],"
    "\"subject\":\"Défaut #42 « Größe » : état → Résolu\","
    "\"text\":\"Le défaut #42 est passé à l'état Résolu.\","
    "\"html\":\"<p>Le défaut <b>#42</b> est passé à l'état <i>Résolu</i>.</p>\","
    "\"source\":\"hook.c\"}";

/* Appends `text` to `out`, escaped as the inside of a JSON string when `escape` is set.
 * Returns false if `out` is too small. */
static bool append(char *out, size_t capacity, const char *text, bool escape) {
    size_t n = strlen(out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        char piece[8];
        if (escape && (*c == '"' || *c == '\\'))
            snprintf(piece, sizeof piece, "\\%c", *c);
        else if (escape && *c < 0x20)
            snprintf(piece, sizeof piece, "\\u%04x", *c);
        else
            snprintf(piece, sizeof piece, "%c", *c);
        size_t len = strlen(piece);
        if (n + len + 1 > capacity)
            return false;
        memcpy(out + n, piece, len + 1);
        n += len;
    }
    return true;
}

/* The options JSON: the relay, or the pickup transport into a folder. A Windows path has
 * backslashes, so the value is escaped. */
static bool build_options(char *out, size_t capacity, const char *smtp, const char *pickup) {
    out[0] = '\0';
    return append(out, capacity,
                  smtp ? "{\"email_server\":\""
                       : "{\"email_transport\":\"pickup\",\"email_pickup_dir\":\"",
                  false) &&
           append(out, capacity, smtp ? smtp : pickup, true) &&
           append(out, capacity, "\"}", false);
}

static int fail(const char *what, en_result rc) {
    fprintf(stderr, "%s failed (code %d): %s\n", what, (int)rc, en_last_error());
    return 1;
}

int main(int argc, char **argv) {
    const char *db = NULL, *smtp = NULL, *pickup = "pickup";
    bool usage = argc % 2 == 0; /* every flag takes a value */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            db = argv[i + 1];
        else if (strcmp(argv[i], "--smtp") == 0)
            smtp = argv[i + 1];
        else if (strcmp(argv[i], "--pickup") == 0)
            pickup = argv[i + 1];
        else
            usage = true;
    }
    if (db == NULL || usage) {
        fprintf(stderr, "usage: %s --db PATH [--smtp HOST:PORT | --pickup DIR]\n", argv[0]);
        return 2;
    }

    char options[4096];
    if (!build_options(options, sizeof options, smtp, pickup)) {
        fprintf(stderr, "the --smtp or --pickup value is too long\n");
        return 2;
    }

    en_engine *engine = NULL;
    en_result rc = en_open(db, options, &engine);
    if (rc != EN_OK)
        return fail("en_open", rc);

    int status = 0;
    int64_t id = 0;
    en_report report;
    if ((rc = en_notify(engine, MESSAGE, &id)) != EN_OK) {
        status = fail("en_notify", rc);
    } else if ((rc = en_flush(engine, &report)) != EN_OK) {
        status = fail("en_flush", rc);
    } else {
        printf("notified (id %lld); flush: %llu sent, %llu deferred, %llu failed%s\n",
               (long long)id, (unsigned long long)report.sent,
               (unsigned long long)report.deferred, (unsigned long long)report.failed,
               report.held_by_mode ? ", held for the delivery server (Queue mode)" : "");
    }
    en_close(engine);
    return status;
}
