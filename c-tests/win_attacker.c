/*
 * win_attacker.c - a hostile process of the same user, written against Win32 only (it never loads
 * wipc.dll): the attacker of test_attack_win.c. Each command prints READY
 * once its attack is in place and then holds it until it is killed (or, for one-shot commands, exits
 * 0 when done). Exit 2 = the attack could not be set up (reason on stderr).
 *
 *   msg-userdata NAME       SetWindowLongPtrW(GWLP_USERDATA) on the endpoint's window (class
 *                           wipc-msg-NAME) with a junk pointer; exit 0 once written and read back.
 *   msg-hijack NAME         a message-only window of class wipc-msg-NAME of its own; prints
 *                           "GOT <n>" for every WM_COPYDATA it receives (and answers 0x41).
 *   shm-events NAME         pre-creates the channel's wake events Local\wipc-NAME#0..3 (manual-reset,
 *                           signalled, default DACL) before wipc_shm_create runs.
 *   msg-mutex NAME          pre-creates the msg name mutex Local\wipc-msg-NAME, unowned.
 *   shm-reserve SRC DST     builds channel DST from channel SRC's header (copied) in a SEC_RESERVE
 *                           section whose ring pages are never committed, with its wake events.
 *   pipe-squat NAME N       opens N client instances of pipe \\.\pipe\wipc-NAME and never says
 *                           HELLO; after READY, prints "DROPPED <k>" each time the server hangs up
 *                           one of them (its HELLO read, then end of pipe).
 *   shm-flip NAME           maps channel NAME read-write and flips its header's capacity between
 *                           the real value and 1 TiB as fast as it can (an open-time header race).
 *   bulk-reserve NAME LEN   connects to pipe \\.\pipe\wipc-NAME, says HELLO with the bulk flag, and
 *                           sends one BULK message of LEN bytes whose section Local\wipc-pb-<pid>-1
 *                           is SEC_RESERVE with only its header page committed.
 */
#ifndef WIN32_LEAN_AND_MEAN
#  define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int fail(const char *what)
{
    fprintf(stderr, "win_attacker: %s failed (Win32 error %lu)\n", what, (unsigned long)GetLastError());
    return 2;
}

static void ready(void)
{
    printf("READY\n");
    fflush(stdout);
}

static void hold(void)
{
    for (;;)
        Sleep(1000);
}

static void wide(wchar_t *out, size_t cap, const char *fmt, const char *a, const char *b)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    MultiByteToWideChar(CP_UTF8, 0, buf, -1, out, (int)cap);
}

/* ---- msg ----------------------------------------------------------------------------------------- */

static int msg_userdata(const char *name)
{
    wchar_t cls[256];
    wide(cls, 256, "wipc-msg-%s%s", name, NULL);
    HWND w = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
    if (!w)
        return fail("FindWindowExW(wipc-msg-NAME)");
    const LONG_PTR junk = (LONG_PTR)0x4141414141414141ull;
    SetLastError(0);
    SetWindowLongPtrW(w, GWLP_USERDATA, junk);
    if (GetLastError() != 0)
        return fail("SetWindowLongPtrW(GWLP_USERDATA)");
    if (GetWindowLongPtrW(w, GWLP_USERDATA) != junk)
        return fail("GetWindowLongPtrW(GWLP_USERDATA) read back");
    printf("WROTE %p\n", (void *)w);
    return 0;
}

static LONG g_got;

static LRESULT CALLBACK hijack_proc(HWND h, UINT m, WPARAM wp, LPARAM lp)
{
    if (m == WM_COPYDATA) {
        printf("GOT %ld\n", (long)InterlockedIncrement(&g_got));
        fflush(stdout);
        return 0x41;
    }
    return DefWindowProcW(h, m, wp, lp);
}

static int msg_hijack(const char *name)
{
    wchar_t cls[256];
    wide(cls, 256, "wipc-msg-%s%s", name, NULL);
    WNDCLASSEXW wc;
    memset(&wc, 0, sizeof wc);
    wc.cbSize = sizeof wc;
    wc.lpfnWndProc = hijack_proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = cls;
    if (!RegisterClassExW(&wc))
        return fail("RegisterClassExW");
    if (!CreateWindowExW(0, cls, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, wc.hInstance, NULL))
        return fail("CreateWindowExW(HWND_MESSAGE)");
    ready();
    MSG msg;
    while (GetMessageW(&msg, NULL, 0, 0) > 0)
        DispatchMessageW(&msg);
    return 0;
}

static int msg_mutex(const char *name)
{
    wchar_t n[256];
    wide(n, 256, "Local\\wipc-msg-%s%s", name, NULL);
    if (!CreateMutexW(NULL, FALSE, n))
        return fail("CreateMutexW");
    ready();
    hold();
    return 0;
}

/* ---- shm ----------------------------------------------------------------------------------------- */

#define SHM_WORDS 4

static int make_events(const char *name, BOOL signalled, BOOL manual)
{
    for (int i = 0; i < SHM_WORDS; i++) {
        char idx[16];
        wchar_t n[256];
        snprintf(idx, sizeof idx, "#%d", i);
        wide(n, 256, "Local\\wipc-%s%s", name, idx);
        if (!CreateEventW(NULL, manual, signalled, n))
            return fail("CreateEventW(Local\\wipc-NAME#i)");
    }
    return 0;
}

static int shm_events(const char *name)
{
    if (make_events(name, TRUE, TRUE))
        return 2;
    ready();
    hold();
    return 0;
}

static int shm_reserve(const char *src, const char *dst)
{
    wchar_t n[256];
    wide(n, 256, "Local\\wipc-%s%s", src, NULL);
    HANDLE hs = OpenFileMappingW(FILE_MAP_READ, FALSE, n);
    if (!hs)
        return fail("OpenFileMappingW(SRC)");
    const uint8_t *s = (const uint8_t *)MapViewOfFile(hs, FILE_MAP_READ, 0, 0, 4096);
    if (!s)
        return fail("MapViewOfFile(SRC)");
    uint64_t size;
    memcpy(&size, s + 32, 8); /* section_size (shm_layout.h) */
    wide(n, 256, "Local\\wipc-%s%s", dst, NULL);
    HANDLE hd = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, (DWORD)(size >> 32),
                                   (DWORD)size, n);
    if (!hd || GetLastError() == ERROR_ALREADY_EXISTS)
        return fail("CreateFileMappingW(DST, SEC_RESERVE)");
    uint8_t *d = (uint8_t *)MapViewOfFile(hd, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!d)
        return fail("MapViewOfFile(DST)");
    if (!VirtualAlloc(d, 4096, MEM_COMMIT, PAGE_READWRITE)) /* the header page only */
        return fail("VirtualAlloc(MEM_COMMIT, header page)");
    memcpy(d, s, 4096);
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(d + 4096, &mbi, sizeof mbi) == sizeof mbi)
        printf("RING-PAGES %s\n", mbi.State == MEM_RESERVE  ? "MEM_RESERVE"
                                  : mbi.State == MEM_COMMIT ? "MEM_COMMIT"
                                                            : "other");
    if (make_events(dst, FALSE, FALSE))
        return 2;
    ready();
    hold();
    return 0;
}

/* ---- pipe bulk ------------------------------------------------------------------------------------- */

static void le32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void le64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* frame.h: magic, version 1, kind, header size 24, type, length, request id */
static void frame(uint8_t *out, uint8_t kind, uint32_t type, uint32_t length)
{
    memset(out, 0, 24);
    le32(out, 0x43504957u);
    out[4] = 1;
    out[5] = kind;
    out[6] = 24;
    le32(out + 8, type);
    le32(out + 12, length);
}

static int write_all(HANDLE h, const void *buf, DWORD n)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD put = 0;
    BOOL ok = WriteFile(h, buf, n, NULL, &ov) || GetLastError() == ERROR_IO_PENDING;
    ok = ok && GetOverlappedResult(h, &ov, &put, TRUE) && put == n;
    CloseHandle(ov.hEvent);
    return ok ? 0 : -1;
}

static int read_all(HANDLE h, void *buf, DWORD n)
{
    DWORD at = 0;
    while (at < n) {
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        DWORD got = 0;
        BOOL ok = ReadFile(h, (uint8_t *)buf + at, n - at, NULL, &ov) || GetLastError() == ERROR_IO_PENDING;
        ok = ok && GetOverlappedResult(h, &ov, &got, TRUE);
        CloseHandle(ov.hEvent);
        if (!ok || got == 0)
            return -1;
        at += got;
    }
    return 0;
}

static int bulk_reserve(const char *name, uint64_t len)
{
    wchar_t path[256];
    wide(path, 256, "\\\\.\\pipe\\wipc-%s%s", name, NULL);
    HANDLE h = INVALID_HANDLE_VALUE;
    for (int i = 0; i < 500 && h == INVALID_HANDLE_VALUE; i++) {
        h = CreateFileW(path, GENERIC_READ | FILE_WRITE_DATA, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
        if (h == INVALID_HANDLE_VALUE)
            Sleep(10);
    }
    if (h == INVALID_HANDLE_VALUE)
        return fail("CreateFileW(pipe)");
    uint32_t pid = GetCurrentProcessId();
    uint8_t hello[40];
    frame(hello, 4, 0, 16);
    le32(hello + 24, 1); /* protocol version */
    le32(hello + 28, pid);
    le32(hello + 32, 64u << 20); /* max_message_size */
    le32(hello + 36, 1); /* WIPC__HELLO_BULK */
    if (write_all(h, hello, sizeof hello))
        return fail("WriteFile(HELLO)");
    uint8_t theirs[40];
    if (read_all(h, theirs, sizeof theirs))
        return fail("ReadFile(server HELLO)");
    if (!(theirs[36] & 1)) {
        fprintf(stderr, "win_attacker: the server did not offer bulk sections\n");
        return 2;
    }
    const uint64_t slot = 1u << 20, size = 4096 + 2 * slot;
    if (len > slot)
        len = slot;
    wchar_t sname[96], ename[100];
    _snwprintf(sname, 96, L"Local\\wipc-pb-%lu-%lu", (unsigned long)pid, 1ul);
    _snwprintf(ename, 100, L"%ls-ev", sname);
    HANDLE sec = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, (DWORD)size, sname);
    if (!sec)
        return fail("CreateFileMappingW(bulk, SEC_RESERVE)");
    if (!CreateEventW(NULL, FALSE, FALSE, ename))
        return fail("CreateEventW(bulk -ev)");
    uint8_t *b = (uint8_t *)MapViewOfFile(sec, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!b)
        return fail("MapViewOfFile(bulk)");
    if (!VirtualAlloc(b, 4096, MEM_COMMIT, PAGE_READWRITE))
        return fail("VirtualAlloc(MEM_COMMIT, bulk header page)");
    /* bulk_hdr (dll/common/pipe/pipe_bulk.c): magic, version, slots, owner pid, slot size, state[2] */
    le32(b, 0x53425057u);
    le32(b + 4, 1);
    le32(b + 8, 2);
    le32(b + 12, pid);
    le64(b + 16, slot);
    le32(b + 24, 1); /* slot 0 FULL */
    uint8_t msg[24 + 32];
    frame(msg, 6, 7, 32); /* BULK, type 7, DATA */
    uint8_t *d = msg + 24;
    memset(d, 0, 32);
    le32(d, 0x4b4c4250u);
    d[4] = 1; /* DATA */
    d[5] = 0; /* slot 0 */
    le32(d + 8, 1); /* section number */
    le64(d + 16, len);
    le64(d + 24, slot);
    if (write_all(h, msg, sizeof msg))
        return fail("WriteFile(BULK)");
    ready();
    hold();
    return 0;
}

/* ---- item 15: squatters, header races --------------------------------------------------------------- */

static HANDLE open_client(const wchar_t *path, int wait_ms)
{
    for (int waited = 0;; waited += 10) {
        HANDLE h =
            CreateFileW(path, GENERIC_READ | FILE_WRITE_DATA, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
        if (h != INVALID_HANDLE_VALUE || waited >= wait_ms)
            return h;
        if (GetLastError() == ERROR_PIPE_BUSY)
            WaitNamedPipeW(path, 10);
        else
            Sleep(10);
    }
}

static int pipe_squat(const char *name, int n)
{
    wchar_t path[256];
    wide(path, 256, "\\\\.\\pipe\\wipc-%s%s", name, NULL);
    HANDLE h[64];
    if (n < 1 || n > 64)
        return 2;
    for (int i = 0; i < n; i++)
        if ((h[i] = open_client(path, 10000)) == INVALID_HANDLE_VALUE)
            return fail("CreateFileW(pipe) for a squatter");
    ready();
    /* read every instance until the server ends it: a blocking overlapped read per handle, in turn */
    int dropped = 0;
    uint8_t buf[256];
    for (int i = 0; i < n; i++) {
        for (;;) {
            OVERLAPPED ov;
            memset(&ov, 0, sizeof ov);
            ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
            DWORD got = 0;
            BOOL ok = ReadFile(h[i], buf, sizeof buf, NULL, &ov) || GetLastError() == ERROR_IO_PENDING;
            ok = ok && GetOverlappedResult(h[i], &ov, &got, TRUE);
            CloseHandle(ov.hEvent);
            if (!ok || got == 0)
                break;
        }
        printf("DROPPED %d\n", ++dropped);
    }
    hold();
    return 0;
}

static int shm_flip(const char *name)
{
    wchar_t n[256];
    wide(n, 256, "Local\\wipc-%s%s", name, NULL);
    HANDLE h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, n);
    if (!h)
        return fail("OpenFileMappingW(channel)");
    volatile uint64_t *cap =
        (volatile uint64_t *)((uint8_t *)MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 4096) + 16);
    if ((uintptr_t)cap == 16)
        return fail("MapViewOfFile(channel)");
    const uint64_t real = *cap, huge = 1ull << 40;
    ready();
    for (uint64_t i = 0;; i++)
        *cap = (i & 1) ? huge : real;
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 3 && strcmp(argv[1], "msg-userdata") == 0)
        return msg_userdata(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "msg-hijack") == 0)
        return msg_hijack(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "msg-mutex") == 0)
        return msg_mutex(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "shm-events") == 0)
        return shm_events(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "shm-reserve") == 0)
        return shm_reserve(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "pipe-squat") == 0)
        return pipe_squat(argv[2], atoi(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "shm-flip") == 0)
        return shm_flip(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "bulk-reserve") == 0)
        return bulk_reserve(argv[2], strtoull(argv[3], NULL, 10));
    fprintf(stderr, "usage: win_attacker msg-userdata|msg-hijack|msg-mutex|shm-events NAME | shm-reserve SRC DST | "
                    "pipe-squat NAME N | shm-flip NAME | bulk-reserve NAME LEN\n");
    return 2;
}
