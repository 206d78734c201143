#include "request.h"

#include "book_rpc.h"
#include "bookconn.h"
#include "i18n.h"
#include "log.h"
#include "rpcserver.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool request_stopping(void *ctx)
{
    (void)ctx;
    return rpcserver_stopping();
}

static int request_open(const struct request_options *o, struct clock *clk, struct bookconn *c)
{
    struct bookconn_config cfg = {
        .list = o->servers, .clock = clk, .name = o->name,
        .connect_timeout_ms = o->connect_timeout_ms, .try_timeout_ms = o->try_timeout_ms,
        .deadline_ms = o->deadline_ms, .release_ms = REQUEST_RELEASE_MS,
        .stopping = request_stopping, .follow = o->follow, .ctx = o->follow_ctx};
    int rc = bookconn_init(c, &cfg);
    if (rc != 0)
        fprintf(stderr, _("client: setting up the connections: %s\n"), strerror(rc));
    return rc;
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

/* " (2 tries: app server 1 unreachable)", or "" after one try. */
static void request_tries_note(const struct request_options *o, const struct bookconn_book *b,
                               bool again, char *buf, size_t len)
{
    char tries[400];
    failover_tries_text(o->servers, &b->fo, tries, sizeof tries);
    const char *held = _("the book an earlier try got");
    if (tries[0] && again)
        snprintf(buf, len, " (%s; %s)", tries, held);
    else if (tries[0])
        snprintf(buf, len, " (%s)", tries);
    else if (again)
        snprintf(buf, len, " (%s)", held);
    else
        buf[0] = '\0';
}

static void request_print_book(const struct request_options *o, const struct bookconn_book *r)
{
    const book_info *b = &r->reply.book_reply_u.book;
    char t[20];
    clock_format(b->server_time_us, true, t, sizeof t);
    /* server: who handed the book out (its claim took it); answered_by: who told us (a
     * retry may find its book at another server). */
    int answered_by = r->fo.server >= 0 ? o->servers->server[r->fo.server].instance : b->server;
    if (o->json) {
        printf("{\"isbn\":");
        request_json_string(b->isbn);
        printf(",\"title\":");
        request_json_string(b->title);
        printf(",\"author\":");
        request_json_string(b->author);
        printf(",\"year\":%d,\"session\":%" PRId64 ",\"request\":%" PRId64
               ",\"server\":%d,\"served_at\":\"%s\",\"tries\":%d,\"again\":%s,\"answered_by\":%d}\n",
               b->year, (int64_t)b->session, (int64_t)b->request_id, b->server, t, r->fo.tries,
               b->again ? "true" : "false", answered_by);
    } else {
        char note[500], by[48] = "";
        request_tries_note(o, r, b->again, note, sizeof note);
        if (answered_by != b->server)
            snprintf(by, sizeof by, _(", answered by server %d"), answered_by);
        printf(_("%s \"%s\" by %s (%d), session %lld, request %lld, server %d%s at %s%s\n"),
               b->isbn, b->title, b->author, b->year, (long long)b->session,
               (long long)b->request_id, b->server, by, t, note);
    }
    fflush(stdout);
}

static void request_print_over(const struct request_options *o, const struct bookconn_book *r)
{
    const session_summary *s = &r->reply.book_reply_u.summary;
    u_int n = s->by_server.by_server_len;
    const server_count *per = s->by_server.by_server_val;
    if (o->json) {
        printf("{\"session_over\":%" PRId64 ",\"books\":%d,\"handed_out\":%d,\"by_server\":{",
               (int64_t)s->session, s->books_total, s->handed_out);
        for (u_int i = 0; i < n; i++)
            printf("%s\"%d\":%d", i ? "," : "", per[i].server, per[i].books);
        printf("},\"users\":%d}\n", s->users);
    } else {
        char counts[1200] = "";
        size_t at = 0;
        for (u_int i = 0; i < n && at < sizeof counts; i++)
            at += (size_t)snprintf(counts + at, sizeof counts - at, _("%sserver %d: %d"),
                                   i ? ", " : " (", per[i].server, per[i].books);
        if (n && at < sizeof counts)
            snprintf(counts + at, sizeof counts - at, ")");
        char note[500];
        request_tries_note(o, r, false, note, sizeof note);
        printf(_("All books have been handed out: session %lld gave %d of %d books%s to %d "
                 "users%s.\n"),
               (long long)s->session, s->handed_out, s->books_total, counts, s->users, note);
    }
    fflush(stdout);
}

/* What became of a given-up key, on stderr. */
static void request_print_release(const struct request_options *o, const struct bookconn_book *r)
{
    const struct bookconn_release *rel = &r->release;
    char name[FAILOVER_HOST_MAX + 32], reasons[2000];
    if (rel->released) {
        failover_server_name(o->servers, rel->server, name, sizeof name);
        fprintf(stderr, _("client: released request %s on %s: %s\n"), r->key_hex, name,
                _(bookconn_release_text(rel->outcome)));
        return;
    }
    failover_reasons_text(o->servers, &rel->fo, reasons, sizeof reasons);
    /* A hung server may still read the release once it runs again. */
    fprintf(stderr, _("client: no app server confirmed the release of request %s (%s%s%s); a "
                      "book it may hold stays taken until the release goes through or the "
                      "session ends\n"),
            r->key_hex, rel->message[0] ? rel->message : "",
            rel->message[0] && reasons[0] ? "; " : "", reasons[0] ? reasons : _("no server answered"));
}

/* One REQUEST_BOOK through the list. Returns an exit status; *last_session is the
 * session it saw. */
static int request_one(const struct request_options *o, struct bookconn *c, int64_t *last_session)
{
    struct bookconn_book r;
    char err[300], reasons[2000], name[FAILOVER_HOST_MAX + 32];
    if (bookconn_request(c, &r, err, sizeof err) < 0) {
        fprintf(stderr, "client: %s\n", err);
        return REQUEST_EXIT_FAILED;
    }
    failover_reasons_text(o->servers, &r.fo, reasons, sizeof reasons);
    int rc;
    double deadline_s = o->deadline_ms / 1000.0;
    switch (r.fo.end) {
    case FAILOVER_END_ANSWERED:
        if (r.reply.status == BOOK_OK) {
            *last_session = r.reply.book_reply_u.book.session;
            request_print_book(o, &r);
            rc = REQUEST_EXIT_OK;
        } else {
            *last_session = r.reply.book_reply_u.summary.session;
            request_print_over(o, &r);
            rc = REQUEST_EXIT_SESSION_OVER;
        }
        break;
    case FAILOVER_END_REFUSED:
        failover_server_name(o->servers, r.fo.server, name, sizeof name);
        fprintf(stderr, _("client: %s refused the request: %s%s%s%s\n"), name,
                r.reply.book_reply_u.message, reasons[0] ? _(" (before that: ") : "", reasons,
                reasons[0] ? ")" : "");
        rc = REQUEST_EXIT_REFUSED;
        break;
    case FAILOVER_END_DEADLINE:
        if (r.fo.any_answer)
            fprintf(stderr,
                    ngettext("client: no book within %.1f s (%d try), no app server could serve: "
                             "%s\n",
                             "client: no book within %.1f s (%d tries), no app server could "
                             "serve: %s\n",
                             (unsigned long)r.fo.tries),
                    deadline_s, r.fo.tries, reasons);
        else
            fprintf(stderr,
                    ngettext("client: no app server answered within %.1f s (%d try): %s\n",
                             "client: no app server answered within %.1f s (%d tries): %s\n",
                             (unsigned long)r.fo.tries),
                    deadline_s, r.fo.tries, reasons);
        rc = r.fo.any_answer ? REQUEST_EXIT_REFUSED : REQUEST_EXIT_FAILED;
        break;
    default:
        fprintf(stderr,
                ngettext("client: request given up (stopping) after %d try%s%s\n",
                         "client: request given up (stopping) after %d tries%s%s\n",
                         (unsigned long)r.fo.tries),
                r.fo.tries, reasons[0] ? ": " : "", reasons);
        rc = REQUEST_EXIT_FAILED;
    }
    /* After a SESSION_OVER the release only guards against a late claim: no news. */
    if (r.release.tried && (rc != REQUEST_EXIT_SESSION_OVER || !r.release.released))
        request_print_release(o, &r);
    bookconn_book_free(&r);
    return rc;
}

/* What an app server says of a new session (English: app_server/handout.c), in the
 * person's language. */
static const char *request_session_text(const char *m)
{
    static const char *const known[] = {N_("new session opened"),
                                        N_("a new session was already opened")};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return _(known[i]);
    return m;
}

/* RESTART_SESSION through the list; prints the outcome. Returns an exit status. */
static int request_restart(const struct request_options *o, struct bookconn *c, int64_t seen)
{
    struct bookconn_session s;
    bookconn_restart(c, seen, &s);
    char reasons[2000], name[FAILOVER_HOST_MAX + 32];
    failover_reasons_text(o->servers, &s.fo, reasons, sizeof reasons);
    if (s.fo.end == FAILOVER_END_ANSWERED) {
        if (o->json) {
            printf("{\"session\":%" PRId64 ",\"books_left\":%d}\n", s.session, s.books_left);
        } else {
            char tries[400];
            failover_tries_text(o->servers, &s.fo, tries, sizeof tries);
            failover_server_name(o->servers, s.server, name, sizeof name);
            printf(ngettext("Session %lld is open with %d book (%s; %s%s%s).\n",
                            "Session %lld is open with %d books (%s; %s%s%s).\n",
                            (unsigned long)s.books_left),
                   (long long)s.session, s.books_left, request_session_text(s.message), name,
                   tries[0] ? ", " : "",
                   tries);
        }
        fflush(stdout);
        return REQUEST_EXIT_OK;
    }
    if (s.answered) {
        failover_server_name(o->servers, s.server, name, sizeof name);
        fprintf(stderr, _("client: %s refused the new session: %s\n"), name, s.message);
        return REQUEST_EXIT_REFUSED;
    }
    if (s.fo.end == FAILOVER_END_CANCELLED)
        fprintf(stderr, _("client: new session given up (stopping): %s\n"), reasons);
    else
        fprintf(stderr,
                ngettext("client: no app server opened a new session within %.1f s (%d try): %s\n",
                         "client: no app server opened a new session within %.1f s (%d tries): "
                         "%s\n",
                         (unsigned long)s.fo.tries),
                o->deadline_ms / 1000.0, s.fo.tries, reasons);
    return s.fo.any_answer && s.fo.end != FAILOVER_END_CANCELLED ? REQUEST_EXIT_REFUSED
                                                                 : REQUEST_EXIT_FAILED;
}

int request_batch(const struct request_options *o, struct clock *clk)
{
    struct bookconn c;
    if (request_open(o, clk, &c) != 0)
        return REQUEST_EXIT_FAILED;
    int rc = REQUEST_EXIT_OK;
    int64_t session = 0;
    for (long i = 0; i < o->count && rc == REQUEST_EXIT_OK; i++)
        rc = request_one(o, &c, &session);
    bookconn_destroy(&c);
    return rc;
}

int request_new_session(const struct request_options *o, struct clock *clk)
{
    struct bookconn c;
    if (request_open(o, clk, &c) != 0)
        return REQUEST_EXIT_FAILED;
    int rc = request_restart(o, &c, o->seen_session);
    bookconn_destroy(&c);
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
    struct bookconn c;
    if (request_open(o, clk, &c) != 0)
        return REQUEST_EXIT_FAILED;
    int rc = REQUEST_EXIT_OK;
    int64_t session = 0;
    /* A request that failed was given up (its key released): the reader may ask again. */
    while (!rpcserver_stopping()) {
        /* TRANSLATORS: the key letters must be those of request_interactive's keys */
        int k = request_ask(_("[Enter] request a book, [q] quit: "));
        if (k == 'q' || k == 'Q' || k == *C_("key: quit", "q"))
            break;
        rc = request_one(o, &c, &session);
        while (rc == REQUEST_EXIT_SESSION_OVER) {
            k = request_ask(_("Exit or start a new session? [e/n] "));
            if (k == 'n' || k == 'N' || k == *C_("key: new session", "n")) {
                rc = request_restart(o, &c, session);
                break;
            }
            if (k == 'e' || k == 'E' || k == 'q' || k == *C_("key: exit", "e"))
                goto out;
        }
    }
out:
    bookconn_destroy(&c);
    return rc == REQUEST_EXIT_SESSION_OVER ? REQUEST_EXIT_OK : rc;
}
