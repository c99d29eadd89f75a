/*
 * shm_linux.c - Linux: a shm channel between two processes (fork) next to a raw spin ping-pong and a
 * raw futex ping-pong on a shared page (64-byte round trip, median), and 1 MiB one-way throughput
 * (wipc_send/recv and the zero-copy reserve/commit + peek/release) next to memcpy of the same size.
 * All measured in one run. Usage: shm_linux
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wipc.h"

#define N_RTT 100000
#define MIB (1024 * 1024)

static uint64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec; }
static int cmp64(const void *a, const void *b) { uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y; }
static double median(uint64_t *v, int n) { qsort(v, n, sizeof *v, cmp64); return (double)v[n / 2]; }
#define CHK(x) do { wipc_status s_ = (x); if (s_) { fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, wipc_last_error_message()); exit(1); } } while (0)

typedef struct { _Alignas(64) _Atomic uint32_t a; _Alignas(64) _Atomic uint32_t b; } pp;
static uint64_t samples[N_RTT];

static void fwait(_Atomic uint32_t *w, uint32_t v) { while (atomic_load(w) == v) syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0); }
static void fwake(_Atomic uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0); }

static double raw_pingpong(int futex)
{
    pp *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(p, 0, sizeof *p);
    pid_t child = fork();
    if (child == 0) {
        for (uint32_t i = 1; i <= N_RTT + 1000; i++) {
            if (futex) fwait(&p->a, i - 1); else while (atomic_load(&p->a) != i) __builtin_ia32_pause();
            atomic_store(&p->b, i);
            if (futex) fwake(&p->b);
        }
        _exit(0);
    }
    for (uint32_t i = 1; i <= N_RTT + 1000; i++) {
        uint64_t t0 = now_ns();
        atomic_store(&p->a, i);
        if (futex) { fwake(&p->a); fwait(&p->b, i - 1); } else while (atomic_load(&p->b) != i) __builtin_ia32_pause();
        if (i > 1000) samples[i - 1001] = now_ns() - t0;
    }
    waitpid(child, NULL, 0);
    munmap(p, 4096);
    return median(samples, N_RTT);
}

static double shm_pingpong(const char *name)
{
    wipc_shm_options o; wipc_shm_options_init(&o); o.capacity = 1 << 20;
    wipc_handle h;
    CHK(wipc_shm_create(name, &o, &h));
    pid_t child = fork();
    if (child == 0) {
        wipc_handle c; char buf[64]; size_t n; uint32_t t;
        CHK(wipc_shm_open(name, NULL, 5000, &c));
        for (int i = 0; i < N_RTT + 1000; i++) { CHK(wipc_recv(c, buf, sizeof buf, &n, &t, 5000)); CHK(wipc_send(c, t, buf, n, 5000)); }
        wipc_close(c);
        _exit(0);
    }
    char msg[64] = {1}, buf[64]; size_t n; uint32_t t;
    for (int i = 0; i < N_RTT + 1000; i++) {
        uint64_t t0 = now_ns();
        CHK(wipc_send(h, 1, msg, 64, 5000));
        CHK(wipc_recv(h, buf, sizeof buf, &n, &t, 5000));
        if (i >= 1000) samples[i - 1000] = now_ns() - t0;
    }
    waitpid(child, NULL, 0);
    wipc_close(h);
    return median(samples, N_RTT);
}

static double memcpy_gbps(void)
{
    char *a = malloc(MIB), *b = malloc(MIB);
    memset(a, 1, MIB); memset(b, 2, MIB);
    int reps = 4000;
    uint64_t t0 = now_ns();
    for (int i = 0; i < reps; i++) { memcpy(i & 1 ? a : b, i & 1 ? b : a, MIB); __asm__ volatile("" ::: "memory"); }
    double s = (now_ns() - t0) / 1e9;
    free(a); free(b);
    return reps * (double)MIB / s / 1e9;
}

static double shm_throughput(const char *name, int zero_copy, int reps)
{
    wipc_shm_options o; wipc_shm_options_init(&o); o.capacity = 8 << 20;
    wipc_handle h;
    CHK(wipc_shm_create(name, &o, &h));
    char *src = malloc(MIB); memset(src, 3, MIB);
    pid_t child = fork();
    if (child == 0) {
        wipc_handle c; char *buf = malloc(MIB); size_t n; uint32_t t; unsigned sum = 0;
        o.capacity = 0;
        CHK(wipc_shm_open(name, NULL, 5000, &c));
        for (int i = 0; i < reps; i++) {
            if (zero_copy) { const void *p; CHK(wipc_shm_peek(c, &p, &n, &t, 5000)); sum += ((const unsigned char *)p)[n - 1]; CHK(wipc_shm_release(c)); }
            else { CHK(wipc_recv(c, buf, MIB, &n, &t, 5000)); sum += (unsigned char)buf[n - 1]; }
        }
        CHK(wipc_send(c, 2, &sum, sizeof sum, 5000));
        wipc_close(c);
        _exit(0);
    }
    /* wait for the opener before timing */
    wipc_info in; memset(&in, 0, sizeof in); in.struct_size = sizeof in;
    do { wipc_get_info(h, &in); } while (!in.connected);
    uint64_t t0 = now_ns();
    for (int i = 0; i < reps; i++) {
        if (zero_copy) { void *p; CHK(wipc_shm_reserve(h, MIB, &p, 5000)); memcpy(p, src, MIB); CHK(wipc_shm_commit(h, 1, MIB)); }
        else CHK(wipc_send(h, 1, src, MIB, 5000));
    }
    unsigned sum; size_t n; uint32_t t;
    CHK(wipc_recv(h, &sum, sizeof sum, &n, &t, 10000));
    double s = (now_ns() - t0) / 1e9;
    waitpid(child, NULL, 0);
    wipc_close(h);
    free(src);
    return reps * (double)MIB / s / 1e9;
}

int main(int argc, char **argv)
{
    char name[64];
    snprintf(name, sizeof name, "bench-%d", getpid());
    printf("64-byte round trip, median of %d (ns):\n", N_RTT);
    double spin = raw_pingpong(0), fut = raw_pingpong(1);
    strcat(name, "a");
    double shm = shm_pingpong(name);
    printf("  raw spin ping-pong   %8.0f\n  raw futex ping-pong  %8.0f\n  wipc shm channel     %8.0f  (%.2fx spin)\n", spin, fut, shm, shm / spin);
    int reps = argc > 1 ? atoi(argv[1]) : 4000;
    double mc = memcpy_gbps();
    strcat(name, "b");
    double tp = shm_throughput(name, 0, reps);
    strcat(name, "c");
    double zc = shm_throughput(name, 1, reps);
    printf("1 MiB one-way throughput (GB/s):\n  memcpy 1 MiB         %8.2f\n  wipc_send/recv       %8.2f  (%.2fx memcpy)\n  reserve/commit+peek  %8.2f  (%.2fx memcpy)\n", mc, tp, tp / mc, zc, zc / mc);
    return 0;
}
