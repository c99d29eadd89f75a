/*
 * wipc_csharp.i - C# typemaps of wipc.i (included by it). The generated class Wipc.WipcNative is
 * internal: the public API is the hand-written classes of bindings/csharp/*.cs, which call it.
 *
 *  - data to send (`const void *data`, `req`) is an IntPtr: the C# side pins a ReadOnlySpan<byte>
 *    (`fixed`), so byte[], Span and Memory callers share one path; buffers to fill are byte[]
 *    (blittable: pinned by the marshaller, not copied);
 *  - out-parameters are `out ulong/uint/int/IntPtr`; structs are `ref` to the blittable structs of
 *    Native.cs (same layout as wipc.h); callbacks are the delegates of Native.cs (Cdecl);
 *  - statuses stay ints: Native.Check() turns them into WipcException right after the call, on the
 *    same thread, so wipc_last_error_message() is the call's own message.
 */
%pragma(csharp) moduleclassmodifiers="internal class"
%csconst(1);   /* #defines as C# compile-time constants */

/* size_t is 64-bit on the C# target (Linux x86-64 + mono): ulong, not SWIG's default uint. */
%apply unsigned long long { size_t };

%define WIPC_CS_PASS(CTYPE, CSTYPE, NAME, CSIN)
%typemap(ctype) CTYPE NAME "CTYPE"
%typemap(imtype) CTYPE NAME "CSTYPE"
%typemap(cstype) CTYPE NAME "CSTYPE"
%typemap(csin) CTYPE NAME CSIN
%typemap(in) CTYPE NAME %{ $1 = ($1_ltype)$input; %}
%enddef

/* byte[] buffers */
WIPC_CS_PASS(const void *, global::System.IntPtr, data, "$csinput")
WIPC_CS_PASS(const void *, global::System.IntPtr, req, "$csinput")
WIPC_CS_PASS(void *, byte[], buf, "$csinput")
WIPC_CS_PASS(void *, byte[], resp, "$csinput")
WIPC_CS_PASS(char *, byte[], buf, "$csinput")
WIPC_CS_PASS(void *, global::System.IntPtr, user_data, "$csinput")

/* out-parameters */
WIPC_CS_PASS(wipc_handle *, out ulong, out_server, "out $csinput")
WIPC_CS_PASS(wipc_handle *, out ulong, out_conn, "out $csinput")
WIPC_CS_PASS(wipc_handle *, out ulong, out_channel, "out $csinput")
WIPC_CS_PASS(wipc_handle *, out ulong, out_region, "out $csinput")
WIPC_CS_PASS(wipc_handle *, out ulong, out_endpoint, "out $csinput")
WIPC_CS_PASS(size_t *, out ulong, out_size, "out $csinput")
WIPC_CS_PASS(size_t *, out ulong, out_resp_size, "out $csinput")
WIPC_CS_PASS(size_t *, out ulong, out_needed, "out $csinput")
WIPC_CS_PASS(uint64_t *, out ulong, out_size, "out $csinput")
WIPC_CS_PASS(uint32_t *, out uint, out_type, "out $csinput")
WIPC_CS_PASS(uint32_t *, out uint, out_delivered, "out $csinput")
WIPC_CS_PASS(int32_t *, out int, out_reply, "out $csinput")
WIPC_CS_PASS(void **, out global::System.IntPtr, out_ptr, "out $csinput")
WIPC_CS_PASS(const void **, out global::System.IntPtr, out_ptr, "out $csinput")

/* structs (Native.cs) */
WIPC_CS_PASS(wipc_info *, ref Wipc.NativeInfo, out, "ref $csinput")
WIPC_CS_PASS(wipc_message *, ref Wipc.NativeMessage, out, "ref $csinput")
WIPC_CS_PASS(wipc_pipe_options *, ref Wipc.PipeOptions, o, "ref $csinput")
WIPC_CS_PASS(const wipc_pipe_options *, ref Wipc.PipeOptions, o, "ref $csinput")
WIPC_CS_PASS(wipc_shm_options *, ref Wipc.ShmOptions, o, "ref $csinput")
WIPC_CS_PASS(const wipc_shm_options *, ref Wipc.ShmOptions, o, "ref $csinput")
WIPC_CS_PASS(wipc_msg_options *, ref Wipc.MsgOptions, o, "ref $csinput")
WIPC_CS_PASS(const wipc_msg_options *, ref Wipc.MsgOptions, o, "ref $csinput")

/* 1.1 asynchronous operations (Async.cs): the completion struct is read by Async.cs, not wrapped */
%ignore wipc_completion;
WIPC_CS_PASS(wipc_op *, out ulong, out_op, "out $csinput")
WIPC_CS_PASS(wipc_complete_cb, Wipc.NativeCompleteCallback, cb, "$csinput")

/* 1.1 discovery and statistics (wipc_list, wipc_stat): no C# surface yet (the `wipc` CLI and the C API
 * have them); not wrapped, so SWIG makes no undocumented public classes for their structs */
%ignore wipc_endpoint;
%ignore wipc_stats;
%ignore wipc_list;
%ignore wipc_stat;

/* 1.1 named events (wipc_event_*): the handle as an out ulong, for Wipc.NamedEvent (NamedEvent.cs)
 */
WIPC_CS_PASS(wipc_handle *, out ulong, out_event, "out $csinput")

/* callbacks (Native.cs): the caller keeps the delegate alive while the library may call it */
WIPC_CS_PASS(wipc_message_cb, Wipc.NativeMessageCallback, on_message, "$csinput")
WIPC_CS_PASS(wipc_event_cb, Wipc.NativeEventCallback, on_event, "$csinput")
WIPC_CS_PASS(wipc_log_cb, Wipc.NativeLogCallback, cb, "$csinput")
