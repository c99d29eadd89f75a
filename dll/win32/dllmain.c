/*
 * dllmain.c - the DLL entry point of wipc.dll. It only calls DisableThreadLibraryCalls: no thread is
 * started and no lock is taken here (loader lock). Library threads (the I/O thread in iocp.c, the
 * core's callback workers) start lazily on first use and stop in wipc_shutdown(); each pins the module
 * while it runs (see sync.c), so an unload cannot pull the code from under them.
 */
#include "win32_internal.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}
