#include "nodes.h"

#include <stdio.h>
#include <string.h>

void nodes_init(struct nodes *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
}

void nodes_destroy(struct nodes *t)
{
    pthread_mutex_destroy(&t->lock);
}

static int nodes_find(struct nodes *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->node[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int nodes_put(struct nodes *t, const char *name, const char *host, const char *address,
                     unsigned long prog, unsigned long vers, const char *reason)
{
    pthread_mutex_lock(&t->lock);
    int i = nodes_find(t, name);
    if (i < 0 && t->count < NODES_MAX) {
        i = (int)t->count++;
        memset(&t->node[i], 0, sizeof t->node[i]);
        snprintf(t->node[i].name, sizeof t->node[i].name, "%s", name);
    }
    if (i >= 0) {
        struct node_info *n = &t->node[i];
        snprintf(n->host, sizeof n->host, "%s", host);
        snprintf(n->address, sizeof n->address, "%s", address);
        n->prog = prog;
        n->vers = vers;
        n->joins++;
        n->state = NODE_NEW;
        snprintf(n->reason, sizeof n->reason, "%s", reason);
    }
    pthread_mutex_unlock(&t->lock);
    return i;
}

int nodes_join(struct nodes *t, const char *name, const char *host, const char *address,
               unsigned long prog, unsigned long vers)
{
    return nodes_put(t, name, host, address, prog, vers, "joined");
}

int nodes_restore(struct nodes *t, const char *name, const char *host, const char *address,
                  unsigned long prog, unsigned long vers)
{
    return nodes_put(t, name, host, address, prog, vers, "known from the clock DB");
}

size_t nodes_copy(struct nodes *t, struct node_info *out, size_t max)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->count < max ? t->count : max;
    memcpy(out, t->node, n * sizeof *out);
    pthread_mutex_unlock(&t->lock);
    return n;
}

void nodes_set_result(struct nodes *t, const char *name, enum node_state state,
                      const char *reason, int64_t delta_us, int64_t rtt_us,
                      enum clock_policy policy, bool reachable)
{
    pthread_mutex_lock(&t->lock);
    int i = nodes_find(t, name);
    if (i >= 0) {
        struct node_info *n = &t->node[i];
        if (reachable) {
            n->unreachable_rounds = 0;
        } else if (n->unreachable_rounds++ == 0) {
            n->unreachable_since_ns = clock_mono_ns();
        }
        n->state = state;
        snprintf(n->reason, sizeof n->reason, "%s", reason);
        n->last_delta_us = delta_us;
        n->last_rtt_us = rtt_us;
        n->last_policy = policy;
    }
    pthread_mutex_unlock(&t->lock);
}

int nodes_expire_one(struct nodes *t, int rounds, int64_t min_ns, int64_t now_ns, char *name,
                     size_t len)
{
    int removed = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->count && !removed; i++) {
        const struct node_info *n = &t->node[i];
        if (n->unreachable_rounds < rounds || now_ns - n->unreachable_since_ns < min_ns)
            continue;
        snprintf(name, len, "%s", n->name);
        memmove(&t->node[i], &t->node[i + 1], (t->count - i - 1) * sizeof t->node[0]);
        t->count--;
        removed = 1;
    }
    pthread_mutex_unlock(&t->lock);
    return removed;
}
