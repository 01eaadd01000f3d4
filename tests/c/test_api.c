/*
 * The C ABI exercised from C, as an issue-tracker hook written in C would use it.
 *
 * Usage: test_api WORKDIR [SMTP_PORT]   (or the port in EN_TEST_SMTP_PORT)
 * WORKDIR is an empty folder for the databases. Prints one line per check, then
 * "N passed, N failed"; exits 1 if any check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include "en_notify.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;

static void check(bool ok, const char *what) {
    printf("%s - %s\n", ok ? "ok" : "FAIL", what);
    if (ok)
        passed++;
    else
        failed++;
}

/* Checks a result code; on a mismatch the line also shows the code and en_last_error. */
static void check_code(en_result got, en_result want, const char *what) {
    if (got == want) {
        check(true, what);
        return;
    }
    char line[1024];
    snprintf(line, sizeof line, "%s (got %d, want %d: %s)", what, (int)got, (int)want,
             en_last_error());
    check(false, line);
}

static bool last_error_set(void) { return en_last_error()[0] != '\0'; }

/* Checks a call that returned JSON in *json: non-empty, starting with `opening`; frees it. */
static void check_json(en_result rc, char **json, char opening, const char *what) {
    check_code(rc, EN_OK, what);
    check(rc == EN_OK && *json != NULL && (*json)[0] == opening, "  ... gives a JSON document");
    if (rc == EN_OK)
        en_string_free(*json);
    *json = NULL;
}

static bool report_is(const en_report *r, uint64_t sent, uint64_t deferred, uint64_t failed_) {
    return r->sent == sent && r->deferred == deferred && r->failed == failed_;
}

static const char MESSAGE[] =
    "{\"from\":\"tracker@example.com\",\"to\":[\"dev@example.com\"],"
    "\"subject\":\"Défaut #42 : Größe geändert — ✓\","
    "\"text\":\"Le défaut #42 a changé d'état.\","
    "\"html\":\"<p>Le défaut <b>#42</b> a changé d'état.</p>\","
    "\"source\":\"test_api.c\"}";

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static en_engine *open_engine(const char *dir, const char *name, const char *options) {
    char *path = join_path(dir, name);
    en_engine *engine = NULL;
    en_result rc = en_open(path, options, &engine);
    free(path);
    check_code(rc, EN_OK, "en_open a fresh database");
    return rc == EN_OK ? engine : NULL;
}

static void test_modes(en_engine *e) {
    en_report r;
    int64_t id = -1;

    check_code(en_set_mode(e, "Deferred"), EN_OK, "Deferred: en_set_mode");
    check_code(en_notify(e, MESSAGE, &id), EN_OK, "Deferred: en_notify");
    check(id > 0, "Deferred: the message is stored with an id");
    check_code(en_flush(e, &r), EN_OK, "Deferred: en_flush");
    check(report_is(&r, 1, 0, 0) && !r.held_by_mode, "Deferred: flush sends 1");

    check_code(en_set_mode(e, "light"), EN_OK, "Light: en_set_mode (any case)");
    id = -1;
    check_code(en_notify(e, MESSAGE, &id), EN_OK, "Light: en_notify");
    check(id == 0, "Light: sent at once, id 0");
    check_code(en_flush(e, &r), EN_OK, "Light: en_flush");
    check(report_is(&r, 0, 0, 0), "Light: flush has nothing left to send");

    check_code(en_set_mode(e, "Queue"), EN_OK, "Queue: en_set_mode");
    id = -1;
    check_code(en_notify(e, MESSAGE, &id), EN_OK, "Queue: en_notify");
    check(id > 0, "Queue: the message is stored with an id");
    check_code(en_flush(e, &r), EN_OK, "Queue: en_flush");
    check(report_is(&r, 0, 0, 0) && r.held_by_mode, "Queue: flush sends 0, held_by_mode");
    check_code(en_drain(e, &r), EN_OK, "Queue: en_drain");
    check(report_is(&r, 1, 0, 0), "Queue: drain sends 1");
}

static void test_errors(en_engine *e) {
    const int64_t sentinel = -424242;
    int64_t id = sentinel;

    check_code(en_set_mode(e, "Bogus"), EN_ERR_INVALID_MODE, "en_set_mode(\"Bogus\")");
    check(last_error_set(), "  ... with a non-empty en_last_error");

    check_code(en_notify(e, NULL, &id), EN_ERR_NULL_ARGUMENT, "en_notify(NULL json)");
    check(last_error_set(), "  ... with a non-empty en_last_error");
    check(id == sentinel, "  ... leaves the id untouched");

    static const char bad_utf8[] = "{\"to\":[\"dev@example.com\"],\"subject\":\"\xff\xfe" "x\"}";
    check_code(en_notify(e, bad_utf8, &id), EN_ERR_INVALID_UTF8, "en_notify(invalid UTF-8)");
    check(id == sentinel, "  ... leaves the id untouched");

    check_code(en_notify(e, "{\"to\":[],\"subject\":\"nobody\"}", &id), EN_ERR_INVALID_MESSAGE,
               "en_notify(no recipient)");
    check(last_error_set(), "  ... with a non-empty en_last_error");
    check(id == sentinel, "  ... leaves the id untouched");

    check_code(en_notify(e, MESSAGE, &id), EN_OK, "en_notify after failures");
    check(!last_error_set(), "  ... clears en_last_error");
}

static void test_properties(en_engine *e) {
    char *value = NULL;
    check_code(en_set_property(e, "en_deliveryattempt", "7"), EN_OK,
               "en_set_property(en_deliveryattempt, 7)");
    check_code(en_get_property(e, "EN_DELIVERYATTEMPT", &value), EN_OK,
               "en_get_property(EN_DELIVERYATTEMPT)");
    check(value != NULL && strcmp(value, "7") == 0, "  ... reads back 7");
    en_string_free(value);

    check_code(en_set_property(e, "EN_DeliveryAttempt", "many"), EN_ERR_INVALID_PROPERTY,
               "en_set_property(EN_DeliveryAttempt, many)");
    check(last_error_set(), "  ... with a non-empty en_last_error");

    char sentinel[] = "untouched";
    value = sentinel;
    check_code(en_get_property(e, "EN_NoSuchProperty", &value), EN_ERR_INVALID_PROPERTY,
               "en_get_property(unknown name)");
    check(value == sentinel, "  ... leaves the out-parameter untouched");
}

static void test_reports(en_engine *e) {
    int64_t id = 0;
    check_code(en_notify(e, MESSAGE, &id), EN_OK, "en_notify a message to show");
    char *json = NULL;
    check_json(en_list(e, NULL, &json), &json, '[', "en_list");
    check_json(en_list(e, "queued", &json), &json, '[', "en_list(queued)");
    check_json(en_show(e, id, &json), &json, '{', "en_show");
    check_json(en_status(e, &json), &json, '{', "en_status");
}

/* A transport that asks to retry once, then delivers. */
struct flaky {
    int calls;
    bool saw_recipient;
    bool saw_message;
};

static const char RETRY_REASON[] = "relay busy: come back later";

static int32_t flaky_deliver(void *user_data, const char *from, const char *recipients,
                             const uint8_t *message, size_t message_len, char *reason,
                             size_t reason_capacity) {
    struct flaky *f = user_data;
    (void)from;
    f->calls++;
    f->saw_recipient = strstr(recipients, "dev@example.com") != NULL;
    f->saw_message = message != NULL && message_len > 0;
    if (f->calls == 1) {
        snprintf(reason, reason_capacity, "%s", RETRY_REASON);
        return EN_RETRY_LATER;
    }
    return EN_DELIVERED;
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_callback(const char *dir) {
    en_engine *e = open_engine(dir, "callback.db", "{\"EN_RetryBackoff\":\"0s\"}");
    if (e == NULL)
        return;
    struct flaky f = {0};
    check_code(en_set_transport(e, flaky_deliver, &f), EN_OK, "en_set_transport(C callback)");

    int64_t id = 0;
    en_report r;
    check_code(en_notify(e, MESSAGE, &id), EN_OK, "callback: en_notify");
    check_code(en_flush(e, &r), EN_OK, "callback: first en_flush");
    check(report_is(&r, 0, 1, 0), "callback: first flush defers 1");
    check(f.saw_recipient && f.saw_message, "callback: gets the recipients and the message");

    char *json = NULL;
    en_result rc = en_show(e, id, &json);
    check(rc == EN_OK && strstr(json, RETRY_REASON) != NULL, "callback: the reason is recorded");
    if (rc == EN_OK)
        en_string_free(json);

    /* The back-off is 0s but at least 1 ms: flush until the message is due again. */
    double deadline = seconds_now() + 5.0;
    do {
        rc = en_flush(e, &r);
    } while (rc == EN_OK && report_is(&r, 0, 0, 0) && seconds_now() < deadline);
    check_code(rc, EN_OK, "callback: later en_flush");
    check(report_is(&r, 1, 0, 0) && f.calls == 2, "callback: the retry sends 1");
    check_code(en_close(e), EN_OK, "callback: en_close");
}

enum { THREADS = 4, PER_THREAD = 50 };

struct worker {
    en_engine *engine;
    int64_t *ids; /* PER_THREAD slots owned by this worker */
    int failures;
};

static void *notify_many(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (en_notify(w->engine, MESSAGE, &w->ids[i]) != EN_OK)
            w->failures++;
    return NULL;
}

static int compare_ids(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_threads(en_engine *e) {
    static int64_t ids[THREADS * PER_THREAD];
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    int started = 0, failures = 0;
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){e, &ids[t * PER_THREAD], 0};
        if (pthread_create(&threads[t], NULL, notify_many, &workers[t]) == 0)
            started++;
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        failures += workers[t].failures;
    }
    check(started == THREADS && failures == 0, "threads: 4 x 50 en_notify all succeed");

    qsort(ids, THREADS * PER_THREAD, sizeof ids[0], compare_ids);
    int distinct = ids[0] > 0;
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        distinct += ids[i] > 0 && ids[i] != ids[i - 1];
    check(distinct == THREADS * PER_THREAD, "threads: 200 distinct ids");
}

static void test_close(en_engine *e) {
    check_code(en_close(NULL), EN_OK, "en_close(NULL)");
    check_code(en_close(e), EN_OK, "en_close");
    check_code(en_close(e), EN_ERR_INVALID_HANDLE, "en_close twice");
    int64_t id = -5;
    check_code(en_notify(e, MESSAGE, &id), EN_ERR_INVALID_HANDLE, "en_notify on a closed handle");
    check(id == -5, "  ... leaves the id untouched");
}

int main(int argc, char **argv) {
    const char *port = argc > 2 ? argv[2] : getenv("EN_TEST_SMTP_PORT");
    if (argc < 2 || port == NULL) {
        fprintf(stderr, "usage: %s WORKDIR [SMTP_PORT]  (or EN_TEST_SMTP_PORT)\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];

    check(en_version() != NULL && en_version()[0] != '\0', "en_version is not empty");

    char options[128];
    snprintf(options, sizeof options, "{\"email_server\":\"127.0.0.1:%s\"}", port);
    en_engine *e = open_engine(dir, "api.db", options);
    if (e != NULL) {
        test_modes(e);
        test_errors(e);
        test_properties(e);
        test_reports(e);
        test_threads(e);
        test_close(e);
    }
    test_callback(dir);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
