/*
 * msg_pool.c - the POSIX msg sender's connection cache, so that wipc_msg_send to the same endpoint
 * reuses one SOCK_SEQPACKET connection instead of connecting for every message.
 *
 * Only idle sockets live here. A sending thread takes one out (it is then that thread's alone) and
 * gives it back after a complete exchange (request sent, its reply read); a socket whose exchange
 * failed in any way is closed instead, so a late reply can never be taken for the answer to a later
 * message. Several idle sockets to one name may be cached (threads that sent at the same time).
 * Bounded: when full, the least recently used socket is closed. The cache belongs to the process that
 * filled it: a forked child closes its inherited copies at once (pthread_atfork) instead of sharing
 * the parent's connections. wipc_shutdown and library unload close every cached socket.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "linux/msg_linux.h"

#define POOL_MAX 32

typedef struct pooled {
    wipc__linux_msg_sock sock;
    uint64_t used; /* pool.tick when given back: LRU order */
    char name[WIPC_NAME_MAX + 1];
} pooled;

static struct {
    pthread_mutex_t lock;
    pooled e[POOL_MAX];
    size_t n;
    uint64_t tick;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };
static pthread_once_t fork_hooks = PTHREAD_ONCE_INIT;

/* Closes and forgets every entry. Lock held. */
static void drop_all_locked(void)
{
    for (size_t i = 0; i < pool.n; i++)
        close(pool.e[i].sock.fd);
    pool.n = 0;
}

/* fork: the child gets a consistent pool (the lock is held across the fork) and empties it. glibc
 * forgets these handlers when the library is unloaded. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&pool.lock);
}
static void fork_parent(void)
{
    pthread_mutex_unlock(&pool.lock);
}
static void fork_child(void)
{
    drop_all_locked();
    pthread_mutex_unlock(&pool.lock);
}

static void register_fork_hooks(void)
{
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
        wipc__log(WIPC_LOG_WARN, "msg: pthread_atfork failed; a forked child must not send before it execs");
}

/* Removes entry i (the last one takes its place) and returns its socket. Lock held. */
static wipc__linux_msg_sock remove_locked(size_t i)
{
    wipc__linux_msg_sock s = pool.e[i].sock;
    pool.e[i] = pool.e[--pool.n];
    return s;
}

bool wipc__linux_msg_pool_take(const char *name, wipc__linux_msg_sock *out)
{
    pthread_once(&fork_hooks, register_fork_hooks);
    pthread_mutex_lock(&pool.lock);
    size_t best = pool.n;
    for (size_t i = 0; i < pool.n; i++)
        if (strcmp(pool.e[i].name, name) == 0 && (best == pool.n || pool.e[i].used > pool.e[best].used))
            best = i;
    bool found = best < pool.n;
    if (found)
        *out = remove_locked(best);
    pthread_mutex_unlock(&pool.lock);
    return found;
}

void wipc__linux_msg_pool_put(const char *name, const wipc__linux_msg_sock *s)
{
    int evicted = -1;
    pthread_mutex_lock(&pool.lock);
    if (pool.n == POOL_MAX) {
        size_t lru = 0;
        for (size_t i = 1; i < pool.n; i++)
            if (pool.e[i].used < pool.e[lru].used)
                lru = i;
        evicted = remove_locked(lru).fd;
    }
    pooled *p = &pool.e[pool.n++];
    p->sock = *s;
    p->used = ++pool.tick;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_unlock(&pool.lock);
    if (evicted >= 0)
        close(evicted);
}

void wipc__linux_msg_pool_clear(void)
{
    pthread_mutex_lock(&pool.lock);
    drop_all_locked();
    pthread_mutex_unlock(&pool.lock);
}

/* Library unload (dlclose) or process exit: no socket outlives the code that owns it. trylock: at exit
 * another thread may be in the middle of a send; the OS closes everything then anyway. */
__attribute__((destructor)) static void pool_unload(void)
{
    if (pthread_mutex_trylock(&pool.lock) != 0)
        return;
    drop_all_locked();
    pthread_mutex_unlock(&pool.lock);
}
