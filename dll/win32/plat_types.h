/* plat_types.h - Win32 types behind the names dll/platform.h uses. */
#ifndef WIPC_WIN32_PLAT_TYPES_H
#define WIPC_WIN32_PLAT_TYPES_H
#ifndef WIN32_LEAN_AND_MEAN
#  define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef SRWLOCK wipc__mutex;
#define WIPC__MUTEX_INIT SRWLOCK_INIT /* a static wipc__mutex needs no wipc__mutex_init */
typedef CONDITION_VARIABLE wipc__cond;
typedef HANDLE wipc__thread;
#endif
