// ShmMsg.cs - the shm transport (ShmChannel, Region) and the msg transport (MsgEndpoint, Msg).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Wipc
{
    /// <summary>A shared-memory channel (two SPSC rings in one named section: Windows CreateFileMapping
    /// Local\wipc-NAME, Linux shm_open + futex), the fastest transport, for one peer: Create(name) in one
    /// process, Open(name) in the other; then Send/Receive/Request/Reply and the events as on a
    /// Connection. The creator's channel outlives its opener: a new one may open it after it left.</summary>
    public sealed class ShmChannel : MessageChannel
    {
        ShmChannel(ulong handle) : base(handle) { }

        /// <summary>Creates the channel <paramref name="name"/> (default 1 MiB rings; wipc_shm_create).
        /// Throws ArgumentNullException, WipcInvalidArgException, WipcAddrInUseException.</summary>
        public static ShmChannel Create(string name) => Create(name, ShmOptions.Default);

        /// <summary>Creates the channel <paramref name="name"/> with options (Capacity, MaxMessageSize, SpinMicroseconds).</summary>
        public static ShmChannel Create(string name, ShmOptions options)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_shm_create(name, ref options, out h));
            return new ShmChannel(h);
        }

        /// <summary>Opens the channel <paramref name="name"/>, waiting up to <paramref name="timeoutMs"/> for
        /// it (wipc_shm_open). Throws WipcNotFoundException, WipcTimeoutException, WipcBusyException (it
        /// already has an opener).</summary>
        public static ShmChannel Open(string name, int timeoutMs = 5000) => Open(name, ShmOptions.Default, timeoutMs);

        /// <summary>Open with options (MaxMessageSize, SpinMicroseconds apply).</summary>
        public static ShmChannel Open(string name, ShmOptions options, int timeoutMs = 5000)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_shm_open(name, ref options, Native.Milliseconds(timeoutMs), out h));
            return new ShmChannel(h);
        }
    }

    /// <summary>A named shared mapping the processes manage themselves (Windows: a pagefile-backed
    /// section Local\wipc-region-NAME that MemoryMappedFile.OpenExisting also opens; Linux: shm_open), or a
    /// mapped file.</summary>
    public sealed class Region : WipcObject
    {
        /// <summary>True if mapped read-only.</summary>
        public bool ReadOnly { get; }

        Region(ulong handle, bool readOnly) : base(handle) { ReadOnly = readOnly; }

        /// <summary>Creates the region <paramref name="name"/> of <paramref name="size"/> bytes, zero-filled
        /// (wipc_region_create). Throws WipcAddrInUseException, WipcInvalidArgException.</summary>
        public static Region Create(string name, ulong size)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            var o = ShmOptions.Default;
            Native.Check(WipcNative.wipc_region_create(name, size, ref o, out h));
            return new Region(h, false);
        }

        /// <summary>Opens the region <paramref name="name"/> (wipc_region_open). Throws WipcNotFoundException,
        /// WipcAccessDeniedException.</summary>
        public static Region Open(string name, bool readOnly = false)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_region_open(name, readOnly ? WipcNative.WIPC_REGION_READONLY : 0, out h));
            return new Region(h, readOnly);
        }

        /// <summary>Maps the file at <paramref name="path"/>, created or grown to <paramref name="size"/>
        /// bytes (0 = its current size) (wipc_region_map_file).</summary>
        public static Region MapFile(string path, ulong size = 0, bool readOnly = false)
        {
            Native.NotNull(path, nameof(path));
            ulong h;
            Native.Check(WipcNative.wipc_region_map_file(path, size, readOnly ? WipcNative.WIPC_REGION_READONLY : 0, out h));
            return new Region(h, readOnly);
        }

        /// <summary>The mapped view's address (valid until Dispose).</summary>
        public IntPtr Pointer { get { View(out var p, out _); return p; } }

        /// <summary>The region's size in bytes.</summary>
        public ulong Size { get { View(out _, out var n); return n; } }

        void View(out IntPtr ptr, out ulong size) => Native.Check(WipcNative.wipc_region_view(Live, out ptr, out size));

        unsafe Span<byte> Slice(ulong offset, int count)
        {
            View(out var p, out var n);
            if (count < 0 || offset > n || (ulong)count > n - offset)
                throw new ArgumentOutOfRangeException(nameof(offset), "outside the region");
            return new Span<byte>((byte*)p + offset, count);
        }

        /// <summary>Copies <paramref name="destination"/>.Length bytes at <paramref name="offset"/> into it
        /// (ArgumentOutOfRangeException outside the region).</summary>
        public void Read(ulong offset, Span<byte> destination) => Slice(offset, destination.Length).CopyTo(destination);

        /// <summary>A copy of <paramref name="count"/> bytes at <paramref name="offset"/>.</summary>
        public byte[] Read(ulong offset, int count) => Slice(offset, count).ToArray();

        /// <summary>Copies <paramref name="data"/> into the region at <paramref name="offset"/>
        /// (UnauthorizedAccessException if mapped read-only, ArgumentOutOfRangeException outside it).</summary>
        public void Write(ulong offset, ReadOnlySpan<byte> data)
        {
            if (ReadOnly)
                throw WipcException.Create((int)Status.AccessDenied, "WIPC_E_ACCESS_DENIED: the region is mapped read-only", 0);
            data.CopyTo(Slice(offset, data.Length));
        }

        /// <summary>Write a byte array (null: ArgumentNullException).</summary>
        public void Write(ulong offset, byte[] data) => Write(offset, Native.NotNull(data, nameof(data)).AsSpan());
    }

    /// <summary>A named msg receiver (Windows: a message-only window receiving WM_COPYDATA; Linux: a
    /// datagram socket). With a callback or <see cref="MessageReceived"/> subscribers, each message is
    /// handled on the receiver's library thread and the int it returns (or e.Reply) is the sender's reply;
    /// without, messages are queued (QueueDepth) for Receive() and senders get 0.</summary>
    public sealed class MsgEndpoint : WipcObject
    {
        readonly MessageCallback? onMessage;
        EventHandler<MessageReceivedEventArgs>? messageReceived;

        /// <summary>The receiver's name.</summary>
        public string Name { get; }

        /// <summary>Listens as <paramref name="name"/> (wipc_msg_listen). Throws ArgumentNullException,
        /// WipcInvalidArgException, WipcAddrInUseException.</summary>
        public MsgEndpoint(string name, MessageCallback? onMessage = null) : this(name, MsgOptions.Default, onMessage) { }

        /// <summary>Listens with options (MaxMessageSize, QueueDepth, Flags).</summary>
        public MsgEndpoint(string name, MsgOptions options, MessageCallback? onMessage = null) : base(Listen(name, options))
        {
            Name = name;
            this.onMessage = onMessage;
            if (onMessage == null)
                return;
            try
            {
                UseEvents();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        static ulong Listen(string name, MsgOptions options)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_msg_listen(name, ref options, out h));
            return h;
        }

        /// <summary>Raised on the receiver's thread for each message; set e.Reply to answer the sender.
        /// The first subscription switches the endpoint to callback mode for good (Receive is then refused;
        /// messages arriving while nobody is subscribed are answered 0 and dropped).</summary>
        public event EventHandler<MessageReceivedEventArgs>? MessageReceived
        {
            add { messageReceived += value; UseEvents(); }
            remove { messageReceived -= value; }
        }

        void UseEvents() => EnsureNativeCallbacks(() => MessageThunk(h => this, Dispatch), () => null);

        int Dispatch(Message m)
        {
            int reply = onMessage != null ? onMessage(m) : 0;
            var args = new MessageReceivedEventArgs(m) { Reply = reply };
            Raise(messageReceived, this, args);
            return args.Reply;
        }

        /// <summary>Waits up to <paramref name="timeoutMs"/> for the next queued message (wipc_recv_message).</summary>
        public Message Receive(int timeoutMs = Library.Infinite) => MessageChannel.Receive(this, timeoutMs);
    }

    /// <summary>Sending to msg receivers by name (Windows: SendMessageTimeout WM_COPYDATA; Linux: a datagram).</summary>
    public static partial class Msg
    {
        /// <summary>Sends a copy of <paramref name="data"/> tagged <paramref name="type"/> to the receiver
        /// <paramref name="name"/>, waits up to <paramref name="timeoutMs"/> for it to be handled and returns
        /// its int32 reply (wipc_msg_send). Throws ArgumentNullException, WipcNotFoundException,
        /// WipcTimeoutException, WipcBusyException, WipcTooLargeException. Since 1.1 <paramref name="name"/>
        /// may be a raw target: "class:CLASS", "title:TITLE", "class:CLASS;title:TITLE" (Windows: any window)
        /// or "path:/socket" (Linux): a plain WM_COPYDATA without wipc's header, and the receiver's LRESULT
        /// (low 32 bits) is returned (see <see cref="Library.MsgRaw"/>).</summary>
        public static unsafe int Send(string name, ReadOnlySpan<byte> data, uint type = 0, int timeoutMs = 5000)
        {
            Native.NotNull(name, nameof(name));
            int t = Native.Milliseconds(timeoutMs), reply;
            fixed (byte* p = data)
                Native.Check(WipcNative.wipc_msg_send(name, type, (IntPtr)p, (ulong)data.Length, t, out reply));
            return reply;
        }

        /// <summary>Send a byte array (null: ArgumentNullException).</summary>
        public static int Send(string name, byte[] data, uint type = 0, int timeoutMs = 5000)
            => Send(name, Native.NotNull(data, nameof(data)).AsSpan(), type, timeoutMs);

        /// <summary>Sends to every receiver whose name starts with <paramref name="prefix"/> ("" = all);
        /// returns how many accepted (wipc_msg_broadcast).</summary>
        public static unsafe uint Broadcast(string prefix, ReadOnlySpan<byte> data, uint type = 0, int timeoutMs = 5000)
        {
            Native.NotNull(prefix, nameof(prefix));
            int t = Native.Milliseconds(timeoutMs);
            uint delivered;
            fixed (byte* p = data)
                Native.Check(WipcNative.wipc_msg_broadcast(prefix, type, (IntPtr)p, (ulong)data.Length, t, out delivered));
            return delivered;
        }

        /// <summary>Broadcast a byte array (null: ArgumentNullException).</summary>
        public static uint Broadcast(string prefix, byte[] data, uint type = 0, int timeoutMs = 5000)
            => Broadcast(prefix, Native.NotNull(data, nameof(data)).AsSpan(), type, timeoutMs);

        /// <summary>The names of the live receivers whose name starts with <paramref name="prefix"/> (wipc_msg_list).</summary>
        public static string[] List(string prefix = "")
        {
            Native.NotNull(prefix, nameof(prefix));
            var buf = new byte[4096];
            for (int attempt = 0; ; attempt++)
            {
                ulong need;
                int st = WipcNative.wipc_msg_list(prefix, buf, (ulong)buf.Length, out need);
                if (st == (int)Status.BufferTooSmall && attempt < 8)
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
