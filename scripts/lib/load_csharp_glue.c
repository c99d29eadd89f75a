/*
 * load_csharp_glue.c - scripts/test-shipping's probe of the C# binding's native part on Windows (under
 * Wine): LoadLibrary("wipc_csharp.dll") next to wipc.dll, call its wipc_version entry point (the SWIG
 * name is argv[1]) and exit 0 when it reports major version 1. Cross-compiled by the script.
 */
#include <windows.h>
#include <stdio.h>
typedef unsigned (*version_fn)(void);
int main(int argc, char **argv) {
    HMODULE m = LoadLibraryA("wipc_csharp.dll");
    if (!m) { printf("LoadLibrary(wipc_csharp.dll) failed: %lu\n", GetLastError()); return 1; }
    version_fn f = (version_fn)(void (*)(void))GetProcAddress(m, argc > 1 ? argv[1] : "");
    if (!f) { printf("no export %s in wipc_csharp.dll\n", argc > 1 ? argv[1] : "(none)"); return 1; }
    unsigned v = f();
    printf("wipc_csharp.dll: %s() = 0x%06x\n", argv[1], v);
    return (v >> 16) == 1 ? 0 : 1;
}
