#include "worker.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static void worker_deadline(struct timespec *ts, int delay_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += delay_ms / 1000;
    ts->tv_nsec += (long)(delay_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *worker_run(void *p)
{
    struct worker *w = p;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec deadline;
        worker_deadline(&deadline, w->next_delay_ms);
        int rc = 0;
        while (!w->stop && !w->woken && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&w->cond, &w->lock, &deadline);
        if (w->stop)
            break;
        w->woken = false;
        pthread_mutex_unlock(&w->lock);
        int next = w->job(w->arg);
        pthread_mutex_lock(&w->lock);
        w->next_delay_ms = next < 0 ? 0 : next;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int worker_start(struct worker *w, worker_job_fn job, void *arg, int first_delay_ms)
{
    memset(w, 0, sizeof *w);
    w->job = job;
    w->arg = arg;
    w->next_delay_ms = first_delay_ms < 0 ? 0 : first_delay_ms;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&w->thread, NULL, worker_run, w);
    w->started = rc == 0;
    return rc;
}

void worker_wake(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    w->woken = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

bool worker_stopping(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->stop;
    pthread_mutex_unlock(&w->lock);
    return s;
}

void worker_stop(struct worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    w->started = false;
}
