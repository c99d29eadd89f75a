/*
 * test_fault_lib.h - helpers shared by the reliability suite (test_fault*.c, test_load*.c,
 * test_security*.c) and its helper process rel_peer.c. Header-only; no cmocka here.
 *
 *  - rel_report(): one machine-readable line per fault / bad input / load case,
 *        RELIABILITY|<platform>|<transport>|<category>|<case>|<result>|<key=value,...>
 *    printed on stdout (ctest keeps it in Testing/Temporary/LastTest.log) and appended to the file
 *    named by $WIPC_RELIABILITY_LOG when set. docs/gen_reliability.py turns them into
 *    docs/RELIABILITY.md. Keys summed there: faults, inputs, messages, lost.
 *  - rel_scale_n(): iteration counts scaled by $WIPC_TEST_SCALE (e.g. 0.05 under valgrind / TSan).
 *  - rel_rss_kb() / rel_mem_kb(): a process's resident set (Linux VmRSS; Windows working set) or
 *    committed private memory (Linux VmData; Windows PagefileUsage).
 *  - checksummed payloads for the load and fault cases (rel_*_fill).
 */
#ifndef WIPC_TEST_FAULT_LIB_H
#define WIPC_TEST_FAULT_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
#  define REL_PLATFORM "windows"
#else
#  include <fcntl.h>
#  include <unistd.h>
#  define REL_PLATFORM "linux"
#endif

static inline uint32_t rel_self_pid(void)
{
#ifdef _WIN32
    return (uint32_t)GetCurrentProcessId();
#else
    return (uint32_t)getpid();
#endif
}

/* Appends one line with a single write (O_APPEND / FILE_APPEND_DATA): it survives a SIGKILL right
 * after, since it is in the kernel's hands once write returns. */
static inline void rel_append_line(const char *path, const char *line, size_t n)
{
    if (!path || !path[0])
        return;
#ifdef _WIN32
    HANDLE f = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return;
    DWORD put = 0;
    WriteFile(f, line, (DWORD)n, &put, NULL);
    CloseHandle(f);
#else
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, n);
    (void)w;
    close(fd);
#endif
}

/* ---- reporting ------------------------------------------------------------------------------------- */

static inline void rel_report(const char *transport, const char *category, const char *name, const char *result,
                              const char *fmt, ...)
{
    char kv[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(kv, sizeof kv, fmt, ap);
        va_end(ap);
    }
    char line[1024];
    int n = snprintf(line, sizeof line, "RELIABILITY|%s|%s|%s|%s|%s|%s\n", REL_PLATFORM, transport, category, name,
                     result, kv);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    fputs(line, stdout);
    fflush(stdout);
    rel_append_line(getenv("WIPC_RELIABILITY_LOG"), line, (size_t)n);
}

/* ---- scaling ----------------------------------------------------------------------------------------- */

static inline double rel_scale(void)
{
    const char *s = getenv("WIPC_TEST_SCALE");
    double v = s && s[0] ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

/* n scaled by $WIPC_TEST_SCALE, at least `floor`. */
static inline long rel_scale_n(long n, long floor)
{
    double v = (double)n * rel_scale();
    long r = (long)v;
    return r < floor ? floor : r;
}

/* ---- memory ----------------------------------------------------------------------------------------- */

/* ASan keeps freed memory in quarantine and TSan shadows it: RSS bounds mean nothing there (nor
 * under valgrind: the script sets WIPC_NO_RSS_CHECK). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define REL_SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define REL_SANITIZED 1
#  endif
#endif
#ifndef REL_SANITIZED
#  define REL_SANITIZED 0
#endif

static inline int rel_rss_checked(void)
{
    const char *e = getenv("WIPC_NO_RSS_CHECK");
    return !REL_SANITIZED && !(e && e[0] && e[0] != '0');
}

/* Memory of process `pid` in KiB (0 if unknown): resident (commit = 0: Linux VmRSS, Windows working
 * set) or committed (commit = 1: Linux VmData, the private data reserved; Windows: for this process
 * the private committed regions VirtualQuery reports - Wine's PagefileUsage does not follow heap
 * commits -, for another one PagefileUsage). */
static inline uint64_t rel_mem_kb(uint32_t pid, int commit)
{
#ifdef _WIN32
    if (commit && pid == GetCurrentProcessId()) {
        MEMORY_BASIC_INFORMATION mbi;
        const uint8_t *at = NULL;
        uint64_t total = 0;
        while (VirtualQuery(at, &mbi, sizeof mbi) == sizeof mbi) {
            if (mbi.State == MEM_COMMIT && mbi.Type == MEM_PRIVATE)
                total += mbi.RegionSize;
            const uint8_t *next = (const uint8_t *)mbi.BaseAddress + mbi.RegionSize;
            if (next <= at)
                break;
            at = next;
        }
        return total / 1024u;
    }
    typedef struct {
        DWORD cb;
        DWORD PageFaultCount;
        SIZE_T PeakWorkingSetSize, WorkingSetSize, QuotaPeakPagedPoolUsage, QuotaPagedPoolUsage;
        SIZE_T QuotaPeakNonPagedPoolUsage, QuotaNonPagedPoolUsage, PagefileUsage, PeakPagefileUsage;
    } pmc_t;
    typedef BOOL(WINAPI * gpmi_fn)(HANDLE, pmc_t *, DWORD);
    static gpmi_fn fn;
    if (!fn)
        fn = (gpmi_fn)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "K32GetProcessMemoryInfo");
    if (!fn)
        return 0;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    if (!h)
        return 0;
    pmc_t c;
    memset(&c, 0, sizeof c);
    c.cb = sizeof c;
    uint64_t kb = fn(h, &c, sizeof c) ? (uint64_t)(commit ? c.PagefileUsage : c.WorkingSetSize) / 1024u : 0;
    CloseHandle(h);
    return kb;
#else
    char path[64], line[256];
    const char *field = commit ? "VmData:" : "VmRSS:";
    snprintf(path, sizeof path, "/proc/%u/status", (unsigned)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) {
            kb = strtoull(line + strlen(field), NULL, 10);
            break;
        }
    fclose(f);
    return kb;
#endif
}

/* Resident set of process `pid` in KiB (0 if unknown). */
static inline uint64_t rel_rss_kb(uint32_t pid)
{
    return rel_mem_kb(pid, 0);
}

/* ---- checksummed payloads ------------------------------------------------------------------------------ */

static inline uint64_t rel_mix(uint64_t x) /* splitmix64 */
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static inline uint32_t rel_fnv32(const void *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
    return h;
}

/* Fills n bytes from a keyed sequence. */
static inline void rel_fill_key(uint8_t *p, size_t n, uint64_t key)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = rel_mix(key + i);
        memcpy(p + i, &v, 8);
    }
    if (i < n) {
        uint64_t v = rel_mix(key + i);
        memcpy(p + i, &v, n - i);
    }
}

/* Pipe load request `seq` of client `cid`: 16..272 bytes, starting with cid and seq. */
#define REL_LOAD_MAX 272
static inline size_t rel_load_fill(uint8_t *buf, uint32_t cid, uint32_t seq)
{
    uint64_t key = ((uint64_t)cid << 32) | seq;
    size_t n = 16 + (size_t)(rel_mix(key) % 257);
    memcpy(buf, &cid, 4);
    memcpy(buf + 4, &seq, 4);
    rel_fill_key(buf + 8, n - 8, key);
    return n;
}

/* Shm load message i of stream `seed`: 8..128 bytes, starting with i; *sum = its FNV-1a. */
#define REL_SHM_MAX 128
static inline size_t rel_shm_fill(uint8_t *buf, uint64_t seed, uint64_t i, uint32_t *sum)
{
    uint64_t key = rel_mix(seed ^ (i * 0x100000001B3ull));
    size_t n = 8 + (size_t)(key % 121);
    memcpy(buf, &i, 8);
    rel_fill_key(buf + 8, n - 8, key);
    *sum = rel_fnv32(buf, n);
    return n;
}

/* Msg load message of tag `type`: 4..256 bytes; *sum = its FNV-1a (the reply the receiver gives). */
#define REL_MSG_MAX 256
static inline size_t rel_msg_fill(uint8_t *buf, uint32_t type, uint32_t *sum)
{
    uint64_t key = rel_mix(type);
    size_t n = 4 + (size_t)(key % 253);
    memcpy(buf, &type, 4);
    rel_fill_key(buf + 4, n - 4, key);
    *sum = rel_fnv32(buf, n);
    return n;
}

#endif /* WIPC_TEST_FAULT_LIB_H */
