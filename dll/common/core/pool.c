/*
 * pool.c - the small job pool: at most POOL_THREADS library threads that run queued jobs in order
 * (msg sends of wipc_msg_send_async, shm sends waiting for ring room one slice at a time). Below
 * the entry points (async_api.c starts jobs, api.c's wipc_shutdown joins the threads); it calls only
 * the backend's threads and locks.
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/op.h"

#define POOL_THREADS 4

typedef struct pool_job {
    struct pool_job *next;
    void (*run)(void *arg);
    void *arg;
} pool_job;

static wipc__mutex m_lock = WIPC__MUTEX_INIT;
static wipc__cond m_cond;
static bool m_init, m_stop;
static pool_job *m_head, *m_tail;
static int m_threads, m_idle;
static wipc__thread m_thread[POOL_THREADS];

static void pool_worker(void *arg)
{
    (void)arg;
    wipc__mutex_lock(&m_lock);
    for (;;) {
        while (!m_head && !m_stop) {
            m_idle++;
            wipc__cond_wait_until(&m_cond, &m_lock, wipc__deadline_never());
            m_idle--;
        }
        if (!m_head)
            break;
        pool_job *j = m_head;
        m_head = j->next;
        if (!m_head)
            m_tail = NULL;
        wipc__mutex_unlock(&m_lock);
        j->run(j->arg);
        free(j);
        wipc__mutex_lock(&m_lock);
    }
    wipc__mutex_unlock(&m_lock);
}

wipc_status wipc__pool_run(void (*run)(void *arg), void *arg)
{
    pool_job *j = malloc(sizeof *j);
    if (!j)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for a queued operation");
    j->next = NULL;
    j->run = run;
    j->arg = arg;
    wipc__mutex_lock(&m_lock);
    if (!m_init) {
        wipc__cond_init(&m_cond);
        m_init = true;
    }
    if (m_tail)
        m_tail->next = j;
    else
        m_head = j;
    m_tail = j;
    if (m_idle > 0)
        wipc__cond_signal(&m_cond);
    else if (m_threads < POOL_THREADS && wipc__thread_start(&m_thread[m_threads], pool_worker, NULL) == WIPC_OK)
        m_threads++; /* grows to POOL_THREADS while jobs wait and no worker is idle */
    wipc__mutex_unlock(&m_lock);
    return WIPC_OK;
}

void wipc__pool_shutdown(void)
{
    wipc__mutex_lock(&m_lock);
    int n = m_threads;
    m_stop = true;
    if (m_init)
        wipc__cond_broadcast(&m_cond);
    wipc__mutex_unlock(&m_lock);
    for (int i = 0; i < n; i++)
        wipc__thread_join(&m_thread[i]); /* a busy one finishes its job first (bounded by its timeout) */
    wipc__mutex_lock(&m_lock);
    m_threads = 0;
    m_stop = false;
    wipc__mutex_unlock(&m_lock);
}
