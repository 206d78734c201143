/* Unit tests for common/failover.c: the server list (--server HOST[:INSTANCE]), keys,
 * the backoff and its jitter, and the retry loop: which server each try goes to, the
 * attempt numbers, which answers retry and which end the request, the deadline, and
 * when a given-up key must be released. The loop runs in virtual time: the clock, the
 * waits and the tries are the test's, so nothing sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "book_rpc.h"
#include "failover.h"

/* ---- the server list ---- */

static void list_of(struct failover_list *l, int default_instance, int n, ...)
{
    char err[400];
    failover_list_init(l);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(failover_list_add(l, va_arg(ap, const char *), err, sizeof err), 0);
    va_end(ap);
    assert_int_equal(failover_list_finish(l, default_instance, err, sizeof err), 0);
}

static void test_list_good(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 3, "localhost:2", "app1", "10.77.0.12:255");
    assert_int_equal(l.count, 3);
    assert_string_equal(l.server[0].host, "localhost");
    assert_int_equal(l.server[0].instance, 2);
    assert_string_equal(l.server[1].host, "app1");
    assert_int_equal(l.server[1].instance, 1);      /* --instance's (default 1) */
    assert_string_equal(l.server[2].host, "10.77.0.12");
    assert_int_equal(l.server[2].instance, 255);
    assert_int_equal(failover_list_in_use(&l), 0);

    /* --server HOST --instance N, in either order: the instance comes at the end. */
    list_of(&l, 7, 1, "app2");
    assert_int_equal(l.count, 1);
    assert_int_equal(l.server[0].instance, 7);

    /* No --server: localhost with --instance. */
    list_of(&l, 2, 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.server[0].host, "localhost");
    assert_int_equal(l.server[0].instance, 2);

    /* The same host twice with other instances is two servers. */
    list_of(&l, 1, 2, "localhost:1", "localhost:2");
    assert_int_equal(l.count, 2);

    /* Sixteen is the most. */
    failover_list_init(&l);
    char arg[32], err[400];
    for (int i = 1; i <= FAILOVER_MAX_SERVERS; i++) {
        snprintf(arg, sizeof arg, "h:%d", i);
        assert_int_equal(failover_list_add(&l, arg, err, sizeof err), 0);
    }
    assert_int_equal(failover_list_finish(&l, 1, err, sizeof err), 0);
    assert_int_equal(l.count, FAILOVER_MAX_SERVERS);
}

static void expect_bad(const char *arg, const char *want)
{
    struct failover_list l;
    char err[400] = "";
    failover_list_init(&l);
    assert_int_equal(failover_list_add(&l, arg, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("--server '%s': got \"%s\", wanted \"%s\" in it", arg, err, want);
    assert_int_equal(l.count, 0);
}

static void test_list_bad(void **state)
{
    (void)state;
    expect_bad("", "the host is empty");
    expect_bad(":2", "the host is empty");
    expect_bad("app1:", "from 1 to 255");
    expect_bad("app1:0", "from 1 to 255");
    expect_bad("app1:256", "from 1 to 255");
    expect_bad("app1:-1", "from 1 to 255");
    expect_bad("app1:+2", "from 1 to 255");
    expect_bad("app1: 2", "from 1 to 255");
    expect_bad("app1:2x", "from 1 to 255");
    expect_bad("app1:x", "from 1 to 255");
    expect_bad("app1:99999999999999999999", "from 1 to 255");
    char longhost[FAILOVER_HOST_MAX + 10];
    memset(longhost, 'a', sizeof longhost - 1);
    longhost[sizeof longhost - 1] = '\0';
    expect_bad(longhost, "at most");

    struct failover_list l;
    char arg[32], err[400];
    failover_list_init(&l);
    for (int i = 1; i <= FAILOVER_MAX_SERVERS; i++) {
        snprintf(arg, sizeof arg, "h:%d", i);
        assert_int_equal(failover_list_add(&l, arg, err, sizeof err), 0);
    }
    assert_int_equal(failover_list_add(&l, "h:17", err, sizeof err), -1);
    assert_non_null(strstr(err, "at most 16 app servers"));

    /* Listed twice: once with the instance, once taking --instance's. */
    failover_list_init(&l);
    assert_int_equal(failover_list_add(&l, "app1:1", err, sizeof err), 0);
    assert_int_equal(failover_list_add(&l, "app1", err, sizeof err), 0);
    assert_int_equal(failover_list_finish(&l, 1, err, sizeof err), -1);
    assert_string_equal(err, "--server: app1:1 is listed twice");

    failover_list_init(&l);
    assert_int_equal(failover_list_finish(&l, 0, err, sizeof err), -1);
}

static void test_list_names_and_in_use(void **state)
{
    (void)state;
    struct failover_list l;
    char name[300];
    list_of(&l, 1, 3, "a:1", "b:2", "c:1");
    failover_server_name(&l, 1, name, sizeof name);
    assert_string_equal(name, "app server 2");
    /* Two servers with instance 1: the host tells them apart. */
    failover_server_name(&l, 2, name, sizeof name);
    assert_string_equal(name, "app server 1 at c");
    assert_false(failover_list_use(&l, 0));
    assert_true(failover_list_use(&l, 2));
    assert_int_equal(failover_list_in_use(&l), 2);
    assert_false(failover_list_use(&l, 3)); /* not a server */
    assert_int_equal(failover_list_in_use(&l), 2);
    /* The puller moves on from the server it found silent, unless the requests moved
     * the list meanwhile. */
    assert_true(failover_list_move(&l, 2, 0));
    assert_int_equal(failover_list_in_use(&l), 0);
    assert_false(failover_list_move(&l, 2, 1));
    assert_int_equal(failover_list_in_use(&l), 0);
    assert_false(failover_list_move(&l, 0, 5));
}

/* ---- keys and backoff ---- */

static void test_keys(void **state)
{
    (void)state;
    unsigned char a[FAILOVER_KEY_LEN], b[FAILOVER_KEY_LEN];
    char err[200], hex[FAILOVER_KEY_HEX];
    assert_int_equal(failover_key_new(a, err, sizeof err), 0);
    assert_int_equal(failover_key_new(b, err, sizeof err), 0);
    assert_memory_not_equal(a, b, FAILOVER_KEY_LEN);
    unsigned char k[FAILOVER_KEY_LEN];
    for (int i = 0; i < FAILOVER_KEY_LEN; i++)
        k[i] = (unsigned char)(i * 17);
    failover_key_hex(k, hex);
    assert_string_equal(hex, "00112233445566778899aabbccddeeff");
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    static const int base[] = {50, 100, 200, 400, 800, 1000, 1000, 1000};
    for (int retry = 1; retry <= 8; retry++) {
        int b = base[retry - 1];
        /* The ends of the jitter: half the base, and just under one and a half. */
        assert_int_equal(failover_backoff_ms(retry, 0), b / 2);
        assert_int_equal(failover_backoff_ms(retry, UINT32_MAX), b / 2 + b - 1);
        assert_int_equal(failover_backoff_ms(retry, UINT32_C(1) << 31), b);
    }
    /* Far out it stays capped, without overflowing. */
    assert_int_equal(failover_backoff_ms(1000, 0), 500);
    assert_int_equal(failover_backoff_ms(1000, UINT32_MAX), 1499);
}

static void test_backoff_jitter_spread(void **state)
{
    (void)state;
    /* Over many draws: every value in [base/2, 1.5 base), both halves well used. */
    uint32_t x = 12345;
    int low = 0, high = 0, min = 1 << 30, max = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int w = failover_backoff_ms(3, x);
        assert_in_range(w, 100, 299);
        min = w < min ? w : min;
        max = w > max ? w : max;
        low += w < 200;
        high += w >= 200;
    }
    assert_true(min <= 101 && max >= 298);
    assert_in_range(low, 45000, 55000);
    assert_in_range(high, 45000, 55000);
}

/* ---- classification ---- */

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        int status;
        enum failover_kind kind;
        bool held;
    } want[] = {
        {BOOK_OK, FAILOVER_ANSWERED, false},
        {BOOK_SESSION_OVER, FAILOVER_ANSWERED, false},
        {BOOK_ERR_BUSY, FAILOVER_AGAIN, true},
        {BOOK_ERR_REPLICATION, FAILOVER_AGAIN, true},
        {BOOK_ERR_DATABASE, FAILOVER_AGAIN, true},
        {BOOK_ERR_BADARG, FAILOVER_REFUSED, false},
        {BOOK_ERR_KEY, FAILOVER_REFUSED, false},
        {BOOK_ERR_RELEASED, FAILOVER_REFUSED, false},
        {BOOK_ERR_DENIED, FAILOVER_REFUSED, false},
        {BOOK_ERR_INTERNAL, FAILOVER_REFUSED, true},
        {99, FAILOVER_REFUSED, true},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct failover_try t;
        memset(&t, 0, sizeof t);
        failover_classify_status(want[i].status, &t);
        assert_int_equal(t.kind, want[i].kind);
        assert_int_equal(t.maybe_held, want[i].held);
        assert_non_null(t.brief);
    }
    struct failover_try t;
    failover_classify_rpc(RPC_TIMEDOUT, &t);
    assert_int_equal(t.kind, FAILOVER_TIMEOUT);
    assert_true(t.maybe_held);
    failover_classify_rpc(RPC_CANTRECV, &t);
    assert_int_equal(t.kind, FAILOVER_LOST);
    assert_true(t.maybe_held);
    failover_classify_rpc(RPC_PROGVERSMISMATCH, &t);
    assert_int_equal(t.kind, FAILOVER_LOST);
}

/* ---- the loop, in virtual time ---- */

enum fake_mode { FAKE_UNREACHABLE, FAKE_HANG, FAKE_STATUS };

struct fake {
    int64_t now;
    enum fake_mode mode[FAILOVER_MAX_SERVERS];
    int status[FAILOVER_MAX_SERVERS];
    int answer_at;              /* this try (from 1) answers BOOK_OK, whatever the server */
    int cancel_at;              /* cancelled once this many tries were made (0: never) */
    bool stopped;               /* cancelled from the start */
    int calls;
    int server[256], attempt[256], timeout[256];
    int64_t began[256];
    int waits[256], nwaits;
    uint32_t r;
};

static int64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static bool fake_cancelled(void *ctx)
{
    struct fake *f = ctx;
    return f->stopped || (f->cancel_at > 0 && f->calls >= f->cancel_at);
}

static bool fake_wait(void *ctx, int ms)
{
    struct fake *f = ctx;
    f->waits[f->nwaits++] = ms;
    f->now += ms;
    return !fake_cancelled(f);
}

static uint32_t fake_random(void *ctx)
{
    return ((struct fake *)ctx)->r;
}

/* A refused connection costs 1 ms; a hung server the whole try. */
static void fake_attempt(void *ctx, int server, int attempt, int timeout_ms, struct failover_try *t)
{
    struct fake *f = ctx;
    int n = f->calls++;
    f->server[n] = server;
    f->attempt[n] = attempt;
    f->timeout[n] = timeout_ms;
    f->began[n] = f->now;
    if (f->answer_at == attempt) {
        failover_classify_status(BOOK_OK, t);
        f->now += 2;
        return;
    }
    switch (f->mode[server]) {
    case FAKE_UNREACHABLE:
        t->kind = FAILOVER_UNREACHABLE;
        t->brief = "unreachable";
        snprintf(t->why, sizeof t->why, "h program %d: not registered with rpcbind", server);
        f->now += 1;
        break;
    case FAKE_HANG:
        failover_classify_rpc(RPC_TIMEDOUT, t);
        snprintf(t->why, sizeof t->why, "REQUEST_BOOK: RPC: Timed out");
        f->now += timeout_ms;
        break;
    case FAKE_STATUS:
        failover_classify_status(f->status[server], t);
        snprintf(t->why, sizeof t->why, "REQUEST_BOOK: status %d", f->status[server]);
        f->now += 3;
        break;
    }
}

static void fake_run(struct fake *f, const struct failover_list *l, int first,
                     struct failover_policy p, struct failover_outcome *o)
{
    struct failover_ops ops = {fake_now, fake_wait, fake_cancelled, fake_random, fake_attempt, f};
    failover_run(l, first, &p, &ops, o);
}

static void test_order_and_attempts(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 3, "a:1", "b:2", "c:3");
    struct fake f = {.now = 1000, .answer_at = 5, .r = UINT32_C(1) << 31};
    struct failover_outcome o;
    fake_run(&f, &l, 1, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_ANSWERED);
    assert_int_equal(o.tries, 5);
    /* From the server in use (1) on, wrapping; attempts 1, 2, 3 ... across servers. */
    static const int want_server[] = {1, 2, 0, 1, 2};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f.server[i], want_server[i]);
        assert_int_equal(f.attempt[i], i + 1);
    }
    assert_int_equal(o.server, 2);
    /* The backoff between them: 50, 100, 200, 400 (the jitter's middle). */
    assert_int_equal(f.nwaits, 4);
    assert_int_equal(f.waits[0], 50);
    assert_int_equal(f.waits[1], 100);
    assert_int_equal(f.waits[2], 200);
    assert_int_equal(f.waits[3], 400);
    assert_int_equal(o.per[0].failed, 1);
    assert_int_equal(o.per[1].failed, 2);
    assert_int_equal(o.per[2].failed, 1);
    assert_int_equal(o.per[2].tries, 2);
    assert_true(o.any_answer);
    assert_false(failover_must_release(&o));

    /* A first index out of range starts at the first server. */
    struct fake g = {.answer_at = 1};
    fake_run(&g, &l, 7, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(g.server[0], 0);
}

/* Which answers go on to the next server, and which end the request at once. */
static void test_statuses_retry_or_end(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 2, "a:1", "a:2");
    static const struct {
        int status;
        enum failover_end end;
        int tries;
    } want[] = {
        {BOOK_OK, FAILOVER_END_ANSWERED, 1},
        {BOOK_SESSION_OVER, FAILOVER_END_ANSWERED, 1},
        {BOOK_ERR_BADARG, FAILOVER_END_REFUSED, 1},
        {BOOK_ERR_KEY, FAILOVER_END_REFUSED, 1},
        {BOOK_ERR_RELEASED, FAILOVER_END_REFUSED, 1},
        {BOOK_ERR_DENIED, FAILOVER_END_REFUSED, 1},
        {BOOK_ERR_INTERNAL, FAILOVER_END_REFUSED, 1},
        /* "Try again": on to the other server, which answers. */
        {BOOK_ERR_BUSY, FAILOVER_END_ANSWERED, 2},
        {BOOK_ERR_REPLICATION, FAILOVER_END_ANSWERED, 2},
        {BOOK_ERR_DATABASE, FAILOVER_END_ANSWERED, 2},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct fake f = {.mode = {FAKE_STATUS, FAKE_STATUS}, .status = {want[i].status, BOOK_OK}};
        struct failover_outcome o;
        fake_run(&f, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
        assert_int_equal(o.end, want[i].end);
        assert_int_equal(o.tries, want[i].tries);
        assert_true(o.any_answer);
        assert_int_equal(o.server, want[i].tries - 1);
    }
    /* Timeouts and lost connections go on too. */
    struct fake f = {.mode = {FAKE_HANG, FAKE_STATUS}, .status = {0, BOOK_OK}};
    struct failover_outcome o;
    fake_run(&f, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_ANSWERED);
    assert_int_equal(o.tries, 2);
    assert_int_equal(f.timeout[0], 2500);
    assert_true(o.maybe_held); /* the hung try may still claim: the answer says what it holds */
}

/* Nobody answers: the loop ends at the deadline, no try starts or lasts past it. */
static void test_deadline(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 2, "a:1", "a:2");
    struct fake f = {.now = 5000, .mode = {FAKE_HANG, FAKE_HANG}, .r = UINT32_MAX};
    struct failover_outcome o;
    fake_run(&f, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_DEADLINE);
    for (int i = 0; i < f.calls; i++) {
        assert_true(f.timeout[i] <= 2500);
        assert_true(f.began[i] + f.timeout[i] <= 5000 + 10000);
    }
    assert_true(f.now <= 15000);
    /* 2500, wait 74, 2500, wait 149, 2500, wait 299, then 2078 left for the last try. */
    assert_int_equal(f.calls, 4);
    assert_int_equal(f.timeout[3], 10000 - 3 * 2500 - 74 - 149 - 299);
    assert_false(o.any_answer);
    assert_true(o.maybe_held);
    assert_true(failover_must_release(&o));
    assert_int_equal(o.elapsed_ms, 10000);

    /* Refused connections only: tries until the next backoff would pass the deadline. */
    struct fake g = {.mode = {FAKE_UNREACHABLE, FAKE_UNREACHABLE}};
    fake_run(&g, &l, 0, (struct failover_policy){1000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_DEADLINE);
    /* Tries at 0, 26, 77, 178, 379 and 780 (1 ms each, waits of 25 to 400 ms); the next
     * wait (500 ms) would pass the deadline. */
    assert_int_equal(g.calls, 6);
    assert_true(g.now < 1000);
    assert_false(o.maybe_held); /* nothing reached a server: nothing to release */
    assert_false(failover_must_release(&o));
    assert_int_equal(o.per[0].failed, 3);
    assert_int_equal(o.per[1].failed, 3);

    /* Only "try again" until the deadline: some server answered (exit 4, not 1). */
    struct fake h = {.mode = {FAKE_STATUS, FAKE_STATUS},
                     .status = {BOOK_ERR_REPLICATION, BOOK_ERR_BUSY}};
    fake_run(&h, &l, 0, (struct failover_policy){2000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_DEADLINE);
    assert_true(o.any_answer);
    assert_true(failover_must_release(&o));

    /* The try's own limit is cut to what is left of the deadline. */
    struct fake k = {.mode = {FAKE_HANG, FAKE_HANG}};
    fake_run(&k, &l, 0, (struct failover_policy){1200, 2500, 0}, &o);
    assert_int_equal(k.calls, 1);
    assert_int_equal(k.timeout[0], 1200);
}

static void test_max_tries_and_cancel(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 3, "a:1", "a:2", "a:3");
    struct fake f = {.mode = {FAKE_UNREACHABLE, FAKE_UNREACHABLE, FAKE_UNREACHABLE}};
    struct failover_outcome o;
    fake_run(&f, &l, 2, (struct failover_policy){10000, 500, 3}, &o);
    assert_int_equal(o.end, FAILOVER_END_DEADLINE);
    assert_int_equal(f.calls, 3);       /* each server once: 2, 0, 1 */
    assert_int_equal(f.server[0], 2);
    assert_int_equal(f.server[2], 1);
    assert_int_equal(f.nwaits, 2);      /* no wait after the last */

    /* Cancelled (the window closes) after the second try: during its backoff. */
    struct fake g = {.mode = {FAKE_HANG, FAKE_HANG, FAKE_HANG}, .cancel_at = 2};
    fake_run(&g, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_CANCELLED);
    assert_int_equal(g.calls, 2);
    assert_true(failover_must_release(&o));

    /* Cancelled before anything: no try at all. */
    struct fake k = {.stopped = true};
    fake_run(&k, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_CANCELLED);
    assert_int_equal(o.tries, 0);
    assert_int_equal(o.server, -1);
    assert_false(failover_must_release(&o));
}

static void test_texts(void **state)
{
    (void)state;
    struct failover_list l;
    list_of(&l, 1, 3, "localhost:1", "localhost:2", "localhost:3");
    char buf[600];
    struct fake f = {.mode = {FAKE_UNREACHABLE, FAKE_STATUS, FAKE_STATUS},
                     .status = {0, BOOK_OK, BOOK_OK}};
    struct failover_outcome o;
    fake_run(&f, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    failover_tries_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "2 tries: app server 1 unreachable");
    failover_via_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 1 unreachable, asked app server 2");
    failover_reasons_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 1 at localhost: h program 0: not registered with rpcbind");

    /* One try: nothing to say. */
    struct fake g = {.mode = {FAKE_STATUS}, .status = {BOOK_OK}};
    fake_run(&g, &l, 0, (struct failover_policy){10000, 2500, 0}, &o);
    failover_tries_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "");
    failover_via_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "");

    /* Several failures on a server, and the answering server's own. */
    struct fake h = {.mode = {FAKE_HANG, FAKE_STATUS, FAKE_UNREACHABLE},
                     .status = {0, BOOK_ERR_BUSY, 0}, .answer_at = 5};
    fake_run(&h, &l, 0, (struct failover_policy){20000, 2500, 0}, &o);
    assert_int_equal(o.end, FAILOVER_END_ANSWERED);
    failover_tries_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "5 tries: app server 1 timed out (2 times), app server 2 busy, "
                             "app server 3 unreachable");
    failover_via_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 1 timed out (2 times), app server 3 unreachable, "
                             "asked app server 2");
    failover_failed_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 1 timed out (2 times), app server 2 busy, "
                             "app server 3 unreachable");
    failover_reasons_text(&l, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 1 at localhost: REQUEST_BOOK: RPC: Timed out (2 tries); "
                             "app server 2 at localhost: REQUEST_BOOK: status 5; "
                             "app server 3 at localhost: h program 2: not registered with rpcbind");

    /* Only the answering server failed before. */
    struct fake k = {.mode = {FAKE_STATUS}, .status = {BOOK_ERR_BUSY}, .answer_at = 3};
    struct failover_list one;
    list_of(&one, 2, 0);
    fake_run(&k, &one, 0, (struct failover_policy){20000, 2500, 0}, &o);
    failover_via_text(&one, &o, buf, sizeof buf);
    assert_string_equal(buf, "app server 2 answered at try 3");

    /* A short buffer is cut, never overrun. */
    char small[12];
    failover_reasons_text(&l, &o, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_good),
        cmocka_unit_test(test_list_bad),
        cmocka_unit_test(test_list_names_and_in_use),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_backoff_jitter_spread),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_order_and_attempts),
        cmocka_unit_test(test_statuses_retry_or_end),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_max_tries_and_cancel),
        cmocka_unit_test(test_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
