/*
 * fz_common.h - small helpers shared by the wipc fuzz targets: a reader over the fuzzer's input and
 * FZ_CHECK, which aborts (a crash libFuzzer reports and saves) when an invariant does not hold.
 */
#ifndef WIPC_FUZZ_COMMON_H
#define WIPC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond, ...)                                                                                            \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      fprintf(stderr, "FZ_CHECK failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);                                    \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
      fputc('\n', stderr);                                                                                             \
      abort();                                                                                                         \
    }                                                                                                                  \
  } while (0)

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)fz_u8(in) << (8 * i);
    return v;
}

static inline uint64_t fz_u64(fz_in *in)
{
    uint64_t lo = fz_u32(in);
    return lo | (uint64_t)fz_u32(in) << 32;
}

/* Takes up to `want` bytes; returns how many (the pointer in *out). */
static inline size_t fz_bytes(fz_in *in, size_t want, const uint8_t **out)
{
    size_t k = want < in->n ? want : in->n;
    *out = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* FZ_DEBUG=1 in the environment: the targets narrate what the library answered (to check that
 * the seeds reach the accepted paths). */
#define FZ_LOG(...)                                                                                                    \
  do {                                                                                                                 \
    static int fz_dbg_ = -1;                                                                                           \
    if (fz_dbg_ < 0)                                                                                                   \
      fz_dbg_ = getenv("FZ_DEBUG") != NULL;                                                                            \
    if (fz_dbg_)                                                                                                       \
      fprintf(stderr, __VA_ARGS__);                                                                                    \
  } while (0)

/* A wipc status must be one of the defined codes. */
static inline int fz_status_ok(int32_t st)
{
    return st <= 0 && st >= -16;
}

#endif
