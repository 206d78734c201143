/* worker: a thread that runs one job periodically (a sync round, a pull, a join retry)
 * and can be woken early or stopped at once, instead of sleeping through a shutdown. */
#ifndef BT_WORKER_H
#define BT_WORKER_H

#include <pthread.h>
#include <stdbool.h>

/* Runs once per wake-up; returns how many milliseconds to wait before the next run. */
typedef int (*worker_job_fn)(void *arg);

struct worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool woken;
    bool started;
    int next_delay_ms;
    worker_job_fn job;
    void *arg;
};

/* Starts the thread; the job first runs after first_delay_ms. Returns 0 or an errno. */
int worker_start(struct worker *w, worker_job_fn job, void *arg, int first_delay_ms);
/* Runs the job now instead of at its next time. */
void worker_wake(struct worker *w);
/* Asks the thread to end and joins it (a job in progress finishes first). */
void worker_stop(struct worker *w);
/* For long jobs: true once worker_stop() was called. */
bool worker_stopping(struct worker *w);

#endif
