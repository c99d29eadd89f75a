/*
 * wipc.i - the SWIG interface of wipc, for two targets:
 *
 *   swig -python -threads -noproxy (module _native)      ->  the extension wipc._native, under the
 *        Python package wipc (bindings/python/wipc/), which holds the classes users see
 *   swig -csharp -namespace Wipc -dllimport wipc_csharp ->  the internal class Wipc.WipcNative,
 *        under the C# classes of bindings/csharp/ (assembly Wipc.dll)
 *
 * Both wrap include/wipc.h itself: the functions, and its #defines as constants (WIPC_E_TIMEOUT, ...),
 * so the numbers have one source. The per-language typemaps (bytes/byte[] buffers, out-parameters,
 * option structs, callbacks) are in python/wipc_python.i and csharp/wipc_csharp.i.
 */
#if defined(SWIGPYTHON)
%module _native
#else
%module WipcNative
#endif

%{
#include "wipc.h"
%}

/* Exact fixed-width types on every target (stdint.i makes uint64_t "unsigned long" on LP64, which
 * SWIG's C# module maps to a 32-bit uint). */
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;

/* Structs are marshalled by the typemaps (Python: dicts; C#: blittable structs in Native.cs), never
 * wrapped as proxy classes. */
%ignore wipc_message;
%ignore wipc_info;
%ignore wipc_pipe_options;
%ignore wipc_shm_options;
%ignore wipc_msg_options;

#if defined(SWIGPYTHON)
%include "python/wipc_python.i"
#elif defined(SWIGCSHARP)
%include "csharp/wipc_csharp.i"
#endif

%include "wipc.h"

#if defined(SWIGPYTHON)
%include "python/wipcpy.h"
#endif
