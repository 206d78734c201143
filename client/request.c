#include "request.h"

#include "book_rpc.h"
#include "log.h"
#include "replysync.h"
#include "rpcclient.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The time a book request may take: it waits for the claim to go through the log. */
#define REQUEST_TIMEOUT_MS 10000

static CLIENT *request_connect(const struct request_options *o)
{
    char err[300];
    CLIENT *c = rpcclient_create(o->server, o->prog, BOOK_V1, "tcp", o->timeout_ms, err, sizeof err);
    if (!c) {
        fprintf(stderr, "client: %s\n", err);
        return NULL;
    }
    struct timeval tv = {REQUEST_TIMEOUT_MS / 1000, 0};
    clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
    return c;
}

static void request_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void request_print_book(const struct request_options *o, const book_info *b)
{
    char t[20];
    clock_format(b->server_time_us, true, t, sizeof t);
    if (o->json) {
        printf("{\"isbn\":");
        request_json_string(b->isbn);
        printf(",\"title\":");
        request_json_string(b->title);
        printf(",\"author\":");
        request_json_string(b->author);
        printf(",\"year\":%d,\"session\":%" PRId64 ",\"request\":%" PRId64
               ",\"server\":%d,\"served_at\":\"%s\"}\n", b->year, (int64_t)b->session,
               (int64_t)b->request_id, b->server, t);
    } else {
        printf("%s \"%s\" by %s (%d), session %" PRId64 ", request %" PRId64
               ", server %d at %s\n", b->isbn, b->title, b->author, b->year, (int64_t)b->session,
               (int64_t)b->request_id, b->server, t);
    }
    fflush(stdout);
}

static void request_print_over(const struct request_options *o, const session_summary *s)
{
    if (o->json)
        printf("{\"session_over\":%" PRId64 ",\"books\":%d,\"handed_out\":%d,\"by_server1\":%d,"
               "\"by_server2\":%d,\"users\":%d}\n", (int64_t)s->session, s->books_total,
               s->handed_out, s->by_server1, s->by_server2, s->users);
    else
        printf("All books have been handed out: session %" PRId64 " gave %d of %d books "
               "(server 1: %d, server 2: %d) to %d users.\n", (int64_t)s->session, s->handed_out,
               s->books_total, s->by_server1, s->by_server2, s->users);
    fflush(stdout);
}

/* One REQUEST_BOOK. Returns an exit status; *last_session is the session it saw. */
static int request_one(const struct request_options *o, CLIENT *c, struct clock *clk,
                       int64_t *last_session)
{
    book_request a = {(char *)o->name, replysync_request_time(clk)};
    book_reply rep;
    memset(&rep, 0, sizeof rep);
    int64_t send_ns = clock_mono_ns();
    enum clnt_stat st = request_book_1(&a, &rep, c);
    int64_t recv_ns = clock_mono_ns();
    int rc;
    if (st != RPC_SUCCESS) {
        char err[300];
        rpcclient_error(c, st, "REQUEST_BOOK", err, sizeof err);
        fprintf(stderr, "client: %s\n", err);
        return REQUEST_EXIT_FAILED;
    }
    switch (rep.status) {
    case BOOK_OK:
        replysync_apply(clk, rep.book_reply_u.book.server_time_us, send_ns, recv_ns);
        *last_session = rep.book_reply_u.book.session;
        request_print_book(o, &rep.book_reply_u.book);
        rc = REQUEST_EXIT_OK;
        break;
    case BOOK_SESSION_OVER:
        replysync_apply(clk, rep.book_reply_u.summary.server_time_us, send_ns, recv_ns);
        *last_session = rep.book_reply_u.summary.session;
        request_print_over(o, &rep.book_reply_u.summary);
        rc = REQUEST_EXIT_SESSION_OVER;
        break;
    default:
        fprintf(stderr, "client: the server refused: %s\n", rep.book_reply_u.message);
        rc = REQUEST_EXIT_REFUSED;
    }
    xdr_free((xdrproc_t)xdr_book_reply, (char *)&rep);
    return rc;
}

static int request_restart(const struct request_options *o, CLIENT *c, int64_t seen)
{
    restart_args a = {(char *)o->name, seen};
    session_reply rep;
    memset(&rep, 0, sizeof rep);
    enum clnt_stat st = restart_session_1(&a, &rep, c);
    if (st != RPC_SUCCESS) {
        char err[300];
        rpcclient_error(c, st, "RESTART_SESSION", err, sizeof err);
        fprintf(stderr, "client: %s\n", err);
        return REQUEST_EXIT_FAILED;
    }
    int rc = rep.status == BOOK_OK ? REQUEST_EXIT_OK : REQUEST_EXIT_REFUSED;
    if (rc == REQUEST_EXIT_OK && o->json)
        printf("{\"session\":%" PRId64 ",\"books_left\":%d}\n", (int64_t)rep.session, rep.books_left);
    else if (rc == REQUEST_EXIT_OK)
        printf("Session %" PRId64 " is open with %d books (%s).\n", (int64_t)rep.session,
               rep.books_left, rep.message);
    else
        fprintf(stderr, "client: the server refused: %s\n", rep.message);
    fflush(stdout);
    xdr_free((xdrproc_t)xdr_session_reply, (char *)&rep);
    return rc;
}

int request_batch(const struct request_options *o, struct clock *clk)
{
    CLIENT *c = request_connect(o);
    if (!c)
        return REQUEST_EXIT_FAILED;
    int rc = REQUEST_EXIT_OK;
    int64_t session = 0;
    for (long i = 0; i < o->count && rc == REQUEST_EXIT_OK; i++)
        rc = request_one(o, c, clk, &session);
    clnt_destroy(c);
    return rc;
}

int request_new_session(const struct request_options *o, struct clock *clk)
{
    (void)clk;
    CLIENT *c = request_connect(o);
    if (!c)
        return REQUEST_EXIT_FAILED;
    /* Name the session to replace, so that several asking at once open one session. */
    int64_t seen = o->seen_session;
    status_reply st;
    memset(&st, 0, sizeof st);
    if (seen == 0 && status_1(NULL, &st, c) == RPC_SUCCESS)
        seen = st.session;
    int rc = request_restart(o, c, seen);
    clnt_destroy(c);
    return rc;
}

static int request_ask(const char *prompt)
{
    printf("%s", prompt);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return 'q';
    return line[0] == '\n' ? '\n' : line[0];
}

int request_interactive(const struct request_options *o, struct clock *clk)
{
    CLIENT *c = request_connect(o);
    if (!c)
        return REQUEST_EXIT_FAILED;
    int rc = REQUEST_EXIT_OK;
    int64_t session = 0;
    for (;;) {
        int k = request_ask("[Enter] request a book, [q] quit: ");
        if (k == 'q' || k == 'Q')
            break;
        rc = request_one(o, c, clk, &session);
        if (rc == REQUEST_EXIT_FAILED)
            break;
        while (rc == REQUEST_EXIT_SESSION_OVER) {
            k = request_ask("[e] exit or [n] start a new session? ");
            if (k == 'n' || k == 'N') {
                rc = request_restart(o, c, session);
                break;
            }
            if (k == 'e' || k == 'E' || k == 'q')
                goto out;
        }
    }
out:
    clnt_destroy(c);
    return rc == REQUEST_EXIT_SESSION_OVER ? REQUEST_EXIT_OK : rc;
}
