// ShmMsg.cs - the shm transport (ShmChannel, Region) and the msg transport (MsgEndpoint, Msg).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Wipc
{
    /// <summary>A shared-memory channel (two rings in one named section), the fastest transport, for one
    /// peer: Create(name) in one process, Open(name) in the other; then Send/Receive/Request/Reply as on
    /// a Connection. The creator's channel outlives its opener: a new one may open it after it left.</summary>
    public sealed class ShmChannel : MessageChannel
    {
        ShmChannel(ulong handle) : base(handle) { }

        /// <summary>Creates the channel `name` (default 1 MiB rings). Throws WipcAddrInUseException.</summary>
        public static ShmChannel Create(string name) { return Create(name, ShmOptions.Default); }

        /// <summary>Creates the channel `name` with options (Capacity, MaxMessageSize, SpinMicroseconds).</summary>
        public static ShmChannel Create(string name, ShmOptions options)
        {
            ulong h;
            Native.Check(WipcNative.wipc_shm_create(name, ref options, out h));
            return new ShmChannel(h);
        }

        /// <summary>Opens the channel `name`, waiting up to timeoutMs for it. Throws WipcNotFoundException,
        /// WipcTimeoutException, WipcBusyException (it already has an opener).</summary>
        public static ShmChannel Open(string name, int timeoutMs = 5000) { return Open(name, ShmOptions.Default, timeoutMs); }

        /// <summary>Open with options (MaxMessageSize, SpinMicroseconds apply).</summary>
        public static ShmChannel Open(string name, ShmOptions options, int timeoutMs = 5000)
        {
            ulong h;
            Native.Check(WipcNative.wipc_shm_open(name, ref options, timeoutMs, out h));
            return new ShmChannel(h);
        }
    }

    /// <summary>A named shared mapping the processes manage themselves, or a mapped file.</summary>
    public sealed class Region : WipcObject
    {
        /// <summary>True if mapped read-only.</summary>
        public bool ReadOnly { get; }

        Region(ulong handle, bool readOnly) : base(handle) { ReadOnly = readOnly; }

        /// <summary>Creates the region `name` of `size` bytes (zero-filled).</summary>
        public static Region Create(string name, ulong size)
        {
            ulong h;
            var o = ShmOptions.Default;
            Native.Check(WipcNative.wipc_region_create(name, size, ref o, out h));
            return new Region(h, false);
        }

        /// <summary>Opens the region `name`.</summary>
        public static Region Open(string name, bool readOnly = false)
        {
            ulong h;
            Native.Check(WipcNative.wipc_region_open(name, readOnly ? WipcNative.WIPC_REGION_READONLY : 0, out h));
            return new Region(h, readOnly);
        }

        /// <summary>Maps the file at `path`, created or grown to `size` bytes (0 = its current size).</summary>
        public static Region MapFile(string path, ulong size = 0, bool readOnly = false)
        {
            ulong h;
            Native.Check(WipcNative.wipc_region_map_file(path, size, readOnly ? WipcNative.WIPC_REGION_READONLY : 0, out h));
            return new Region(h, readOnly);
        }

        /// <summary>The mapped view's address (valid until Dispose) and size in bytes.</summary>
        public IntPtr Pointer { get { IntPtr p; ulong n; View(out p, out n); return p; } }

        /// <summary>The region's size in bytes.</summary>
        public ulong Size { get { IntPtr p; ulong n; View(out p, out n); return n; } }

        void View(out IntPtr ptr, out ulong size) { Native.Check(WipcNative.wipc_region_view(Handle, out ptr, out size)); }

        /// <summary>A copy of `count` bytes at `offset`.</summary>
        public byte[] Read(ulong offset, int count)
        {
            IntPtr p; ulong n;
            View(out p, out n);
            if (count < 0 || offset > n || (ulong)count > n - offset)
                throw new ArgumentOutOfRangeException("offset", "outside the region");
            var data = new byte[count];
            Marshal.Copy(new IntPtr(p.ToInt64() + (long)offset), data, 0, count);
            return data;
        }

        /// <summary>Copies `data` into the region at `offset`.</summary>
        public void Write(ulong offset, byte[] data)
        {
            if (ReadOnly)
                throw new WipcAccessDeniedException(Status.AccessDenied, "WIPC_E_ACCESS_DENIED: the region is mapped read-only");
            IntPtr p; ulong n;
            View(out p, out n);
            if (offset > n || (ulong)data.Length > n - offset)
                throw new ArgumentOutOfRangeException("offset", "outside the region");
            Marshal.Copy(data, 0, new IntPtr(p.ToInt64() + (long)offset), data.Length);
        }
    }

    /// <summary>A named msg receiver. With a callback, each message goes to onMessage on the receiver's
    /// library thread and the int it returns is the sender's reply; without, messages are queued for
    /// Receive() and senders get 0.</summary>
    public sealed class MsgEndpoint : WipcObject
    {
        /// <summary>The receiver's name.</summary>
        public string Name { get; }

        public MsgEndpoint(string name, MessageCallback onMessage = null) : this(name, MsgOptions.Default, onMessage) { }

        public MsgEndpoint(string name, MsgOptions options, MessageCallback onMessage = null) : base(Listen(name, options))
        {
            Name = name;
            if (onMessage == null)
                return;
            try
            {
                SetNativeCallbacks(MessageThunk(h => this, onMessage), null);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        static ulong Listen(string name, MsgOptions options)
        {
            ulong h;
            Native.Check(WipcNative.wipc_msg_listen(name, ref options, out h));
            return h;
        }

        /// <summary>Waits up to timeoutMs for the next queued message.</summary>
        public Message Receive(int timeoutMs = Library.Infinite) { return MessageChannel.Receive(this, timeoutMs); }
    }

    /// <summary>Sending to msg receivers by name.</summary>
    public static class Msg
    {
        /// <summary>Sends `data` tagged `type` to the receiver `name`, waits up to timeoutMs for it to be
        /// handled and returns its reply. Throws WipcNotFoundException, WipcTimeoutException,
        /// WipcBusyException, WipcTooLargeException.</summary>
        public static int Send(string name, byte[] data, uint type = 0, int timeoutMs = 5000)
        {
            int reply;
            Native.Check(WipcNative.wipc_msg_send(name, type, data, (ulong)(data == null ? 0 : data.Length), timeoutMs, out reply));
            return reply;
        }

        /// <summary>Sends to every receiver whose name starts with `prefix` ("" = all); returns how many accepted.</summary>
        public static uint Broadcast(string prefix, byte[] data, uint type = 0, int timeoutMs = 5000)
        {
            uint delivered;
            Native.Check(WipcNative.wipc_msg_broadcast(prefix, type, data, (ulong)(data == null ? 0 : data.Length), timeoutMs,
                                                       out delivered));
            return delivered;
        }

        /// <summary>The names of the live receivers whose name starts with `prefix`.</summary>
        public static string[] List(string prefix = "")
        {
            var buf = new byte[4096];
            for (int attempt = 0; ; attempt++)
            {
                ulong need;
                int st = WipcNative.wipc_msg_list(prefix, buf, (ulong)buf.Length, out need);
                if (st == WipcNative.WIPC_E_BUFFER_TOO_SMALL && attempt < 8)
                {
                    buf = new byte[need + 1024];   // receivers may appear between two calls
                    continue;
                }
                Native.Check(st);
                var names = new List<string>();
                for (int i = 0; i < buf.Length && buf[i] != 0;)
                {
                    int end = Array.IndexOf(buf, (byte)0, i);
                    names.Add(Encoding.UTF8.GetString(buf, i, end - i));
                    i = end + 1;
                }
                return names.ToArray();
            }
        }
    }
}
