// Native.cs - the structs and callback delegates of wipc.h as C# declares them for interop (same
// layout; wipc_csharp.i maps the C types to these), the status check every call goes through, and
// the argument checks shared by the public classes.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Wipc
{
    /// <summary>wipc_message: what a message callback sees (valid only during the callback).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeMessage
    {
        public uint struct_size;
        public uint type;
        public IntPtr data;
        public UIntPtr size;
        public ulong request_id;
        public uint peer_pid;
        public uint flags;
    }

    /// <summary>wipc_info, filled by wipc_get_info.</summary>
    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Ansi)]
    internal struct NativeInfo
    {
        public uint struct_size, kind, transport, flags, peer_pid, peer_uid;
        public ulong messages_sent, messages_received, bytes_sent, bytes_received;
        public uint connected, max_message_size;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 264)] public string name;
    }

    /// <summary>Options of a pipe server or client (wipc_pipe_options). Start from <see cref="Default"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PipeOptions
    {
        internal uint StructSize;
        /// <summary>WIPC_PIPE_* flags (<see cref="Library.PipeAllowRemote"/>, <see cref="Library.PipeRaw"/>,
        /// <see cref="Library.PipeAnyUser"/>); other bits are refused (WipcInvalidArgException).</summary>
        public uint Flags;
        /// <summary>Largest message this side sends and accepts, in bytes (default 16 MiB).</summary>
        public uint MaxMessageSize;
        /// <summary>Server: concurrent connections, 1..255 (default 64).</summary>
        public uint MaxInstances;
        /// <summary>Windows server: the OS pipe buffer hint in bytes (0 = 64 KiB); unused on Linux.</summary>
        public uint BufferSize;
        internal uint Reserved;
        internal IntPtr SecurityDescriptor;   // Windows SDDL: not exposed by the binding (NULL = owner only)
        /// <summary>Server: milliseconds a client has to complete the handshake before it is disconnected and its slot
        /// freed (default 5000; 0 = the default; -1 = no deadline). Since 1.1.</summary>
        public int HandshakeTimeoutMs;
        /// <summary>Bytes received on a connection and not yet consumed (queued, or waiting for the message callback)
        /// above which reading pauses until half of it drained (default 8 MiB; 0 = the default). Since 1.1.</summary>
        public uint MaxQueuedBytes;
        /// <summary>The same bound in messages (default 1024; 0 = the default). Since 1.1.</summary>
        public uint MaxQueuedMessages;

        /// <summary>The library's defaults (wipc_pipe_options_init_size with this struct's size, so the 1.1 fields are
        /// filled too; the exported wipc_pipe_options_init fills only the 1.0 layout).</summary>
        public static PipeOptions Default
        {
            get { var o = new PipeOptions(); WipcNative.wipc_pipe_options_init_size(ref o, (uint)Marshal.SizeOf(typeof(PipeOptions))); return o; }
        }
    }

    /// <summary>Options of a shm channel or region (wipc_shm_options). Start from <see cref="Default"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ShmOptions
    {
        internal uint StructSize;
        /// <summary>WIPC_SHM_* flags (<see cref="Library.ShmGlobal"/>).</summary>
        public uint Flags;
        /// <summary>Largest message in bytes (default 16 MiB, capped by the capacity).</summary>
        public uint MaxMessageSize;
        /// <summary>Microseconds to spin before blocking (default 50).</summary>
        public uint SpinMicroseconds;
        /// <summary>Ring size per direction in bytes, a power of two (default 1 MiB).</summary>
        public ulong Capacity;

        /// <summary>The library's defaults (wipc_shm_options_init_size with this struct's size, so the 1.1 fields are
        /// filled too; the exported wipc_shm_options_init fills only the 1.0 layout).</summary>
        public static ShmOptions Default
        {
            get { var o = new ShmOptions(); WipcNative.wipc_shm_options_init_size(ref o, (uint)Marshal.SizeOf(typeof(ShmOptions))); return o; }
        }
    }

    /// <summary>Options of a msg receiver (wipc_msg_options). Start from <see cref="Default"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgOptions
    {
        internal uint StructSize;
        /// <summary>WIPC_MSG_* flags (<see cref="Library.MsgAllowLowerIntegrity"/>).</summary>
        public uint Flags;
        /// <summary>Largest message in bytes (default 64 KiB).</summary>
        public uint MaxMessageSize;
        /// <summary>Messages held for Receive() when there is no callback (default 64).</summary>
        public uint QueueDepth;

        /// <summary>The library's defaults (wipc_msg_options_init_size with this struct's size, so the 1.1 fields are
        /// filled too; the exported wipc_msg_options_init fills only the 1.0 layout).</summary>
        public static MsgOptions Default
        {
            get { var o = new MsgOptions(); WipcNative.wipc_msg_options_init_size(ref o, (uint)Marshal.SizeOf(typeof(MsgOptions))); return o; }
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeMessageCallback(ulong h, IntPtr message, IntPtr userData);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeEventCallback(ulong h, int ev, ulong related, int status, IntPtr userData);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeLogCallback(int level, IntPtr text, IntPtr userData);

    internal static class Native
    {
        /// <summary>Throws the exception of a failing status (with this thread's last-error message,
        /// read right after the call); returns a success status unchanged.</summary>
        internal static int Check(int status)
        {
            if (status < 0)
                throw Error(status);
            return status;
        }

        /// <summary>The exception of `status`, with this thread's last-error message and OS error.</summary>
        internal static Exception Error(int status)
        {
            return WipcException.Create(status, WipcNative.wipc_last_error_message(), WipcNative.wipc_last_os_error());
        }

        /// <summary>A copy of a message the library handed to a callback.</summary>
        internal static Message ReadMessage(IntPtr ptr, WipcObject source)
        {
            var m = Marshal.PtrToStructure<NativeMessage>(ptr);
            var data = new byte[(long)m.size.ToUInt64()];
            if (data.Length > 0)
                Marshal.Copy(m.data, data, 0, data.Length);
            return new Message(data, m.type, m.request_id, m.peer_pid, source);
        }

        /// <summary>ArgumentNullException for a null `value` (nothing is sent for null).</summary>
        internal static T NotNull<T>(T? value, string name) where T : class
        {
            return value ?? throw new ArgumentNullException(name);
        }

        /// <summary>A TimeSpan timeout as the library's int32 milliseconds (Timeout.InfiniteTimeSpan =
        /// forever); ArgumentOutOfRangeException for negative or above int.MaxValue ms.</summary>
        internal static int Milliseconds(TimeSpan timeout, string name = "timeout")
        {
            if (timeout == Timeout.InfiniteTimeSpan)
                return Library.Infinite;
            double ms = Math.Ceiling(timeout.TotalMilliseconds);
            if (ms < 0 || ms > int.MaxValue)
                throw new ArgumentOutOfRangeException(name, timeout, "a timeout is 0..int.MaxValue ms or Timeout.InfiniteTimeSpan");
            return (int)ms;
        }

        /// <summary>An int millisecond timeout as the library takes it: -1 (Library.Infinite) or 0..; else ArgumentOutOfRangeException.</summary>
        internal static int Milliseconds(int timeoutMs, string name = "timeoutMs")
        {
            if (timeoutMs < Library.Infinite)
                throw new ArgumentOutOfRangeException(name, timeoutMs, "a timeout is 0.. ms or Library.Infinite (-1)");
            return timeoutMs;
        }
    }
}
