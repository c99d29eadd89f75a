// Objects.cs - what every wipc object shares: the SafeHandle, the WipcObject base class (IDisposable),
// Message, Info, and the callback delegates with the thunks that the library calls.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Wipc
{
    /// <summary>Events passed to an <see cref="EventCallback"/> (WIPC_EVENT_*).</summary>
    public enum WipcEvent
    {
        /// <summary>A client arrived (servers: `related` is its Connection) or an opener attached (shm).</summary>
        Connected = WipcNative.WIPC_EVENT_CONNECTED,
        /// <summary>The peer closed or died.</summary>
        Disconnected = WipcNative.WIPC_EVENT_DISCONNECTED,
        /// <summary>The transport failed; the object is dead.</summary>
        Error = WipcNative.WIPC_EVENT_ERROR,
    }

    /// <summary>Receives a message on a library thread. The return value is the reply a msg sender gets
    /// (ignored on pipes and shm channels). An exception is reported to Library.CallbackException.</summary>
    public delegate int MessageCallback(Message message);

    /// <summary>Receives an event on a library thread: `source` is the object it concerns, `related` the
    /// new Connection for a server's Connected event (else null), `status` why (Disconnected/Error).</summary>
    public delegate void EventCallback(WipcObject source, WipcEvent ev, WipcObject related, Status status);

    /// <summary>One received message: Data, Type (the sender's int tag), RequestId (nonzero: the sender
    /// waits for a Reply), PeerPid (0 if unknown) and Source (the object it arrived on).</summary>
    public sealed class Message
    {
        public byte[] Data { get; }
        public uint Type { get; }
        public ulong RequestId { get; }
        public uint PeerPid { get; }
        public WipcObject Source { get; }

        internal Message(byte[] data, uint type, ulong requestId, uint peerPid, WipcObject source)
        {
            Data = data; Type = type; RequestId = requestId; PeerPid = peerPid; Source = source;
        }

        /// <summary>True if the sender waits for a reply (pipe and shm requests).</summary>
        public bool IsRequest { get { return RequestId != 0; } }

        /// <summary>The data decoded as UTF-8.</summary>
        public string Text { get { return Encoding.UTF8.GetString(Data); } }

        /// <summary>Answers this request on the connection or channel it came from, tagged `type`
        /// (default: the request's type).</summary>
        public void Reply(byte[] data, uint? type = null)
        {
            var channel = Source as MessageChannel;
            if (channel == null)
                throw new InvalidOperationException("only messages of pipe connections and shm channels have replies");
            channel.Reply(RequestId, data, type ?? Type);
        }
    }

    /// <summary>What wipc_get_info reports about an object.</summary>
    public sealed class Info
    {
        public uint Kind, Transport, Flags, PeerPid, PeerUid, Connected, MaxMessageSize;
        public ulong MessagesSent, MessagesReceived, BytesSent, BytesReceived;
        public string Name;

        internal Info(NativeInfo i)
        {
            Kind = i.kind; Transport = i.transport; Flags = i.flags; PeerPid = i.peer_pid; PeerUid = i.peer_uid;
            MessagesSent = i.messages_sent; MessagesReceived = i.messages_received;
            BytesSent = i.bytes_sent; BytesReceived = i.bytes_received;
            Connected = i.connected; MaxMessageSize = i.max_message_size; Name = i.name;
        }
    }

    /// <summary>Owns one library handle; its release (wipc_close) is guaranteed by the runtime. Calls
    /// pass the handle's value without AddRef: the library's handles carry generation counters, so a
    /// closed one is refused (WIPC_E_BAD_HANDLE), never reused, and Dispose() from another thread
    /// must close at once to cancel a blocked call (WIPC_E_CLOSED).</summary>
    internal sealed class WipcSafeHandle : SafeHandle
    {
        internal WipcSafeHandle(ulong value) : base(IntPtr.Zero, true) { SetHandle(new IntPtr((long)value)); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        internal ulong Value { get { return (ulong)handle.ToInt64(); } }
        protected override bool ReleaseHandle()
        {
            WipcNative.wipc_close(Value);   // WIPC_E_BAD_HANDLE: Library.Shutdown() closed it already
            return true;
        }
    }

    /// <summary>Base class of every wipc object. Dispose() (or Close()) closes it: threads blocked on it
    /// get WipcClosedException, and once it returns no callback of the object runs any more. An object
    /// with callbacks stays alive (and keeps its delegates alive) until it is disposed.</summary>
    public abstract class WipcObject : IDisposable
    {
        static readonly HashSet<WipcObject> withCallbacks = new HashSet<WipcObject>();
        readonly WipcSafeHandle safe;
#pragma warning disable 414   // written only: the field keeps the delegates the library holds pointers to alive
        object callbacks;
#pragma warning restore 414

        static WipcObject()
        {
            AppDomain.CurrentDomain.ProcessExit += (s, e) => WipcNative.wipc_shutdown();
        }

        internal WipcObject(ulong handle) { safe = new WipcSafeHandle(handle); }

        /// <summary>The library handle (0 is never valid).</summary>
        public ulong Handle { get { return safe.Value; } }

        /// <summary>True once the object was disposed.</summary>
        public bool IsClosed { get { return safe.IsClosed; } }

        /// <summary>Kind, transport, peer, counters and name of the object.</summary>
        public Info GetInfo()
        {
            var i = new NativeInfo { struct_size = (uint)Marshal.SizeOf(typeof(NativeInfo)) };
            Native.Check(WipcNative.wipc_get_info(Handle, ref i));
            return new Info(i);
        }

        /// <summary>Closes the object (a second call does nothing).</summary>
        public void Dispose()
        {
            if (safe.IsClosed)
                return;
            safe.Dispose();
            OnClosed();
            lock (withCallbacks)
                withCallbacks.Remove(this);
            callbacks = null;
        }

        /// <summary>Same as Dispose().</summary>
        public void Close() { Dispose(); }

        /// <summary>Called once, after the handle was closed.</summary>
        protected virtual void OnClosed() { }

        internal void SetNativeCallbacks(NativeMessageCallback onMessage, NativeEventCallback onEvent)
        {
            callbacks = new object[] { onMessage, onEvent };
            lock (withCallbacks)
                withCallbacks.Add(this);
            try
            {
                Native.Check(WipcNative.wipc_set_callbacks(Handle, onMessage, onEvent, IntPtr.Zero));
            }
            catch
            {
                lock (withCallbacks)
                    withCallbacks.Remove(this);
                callbacks = null;
                throw;
            }
        }

        internal static void ForgetAllCallbacks()
        {
            lock (withCallbacks)
                withCallbacks.Clear();
        }

        internal static NativeMessageCallback MessageThunk(Func<ulong, WipcObject> source, MessageCallback callback)
        {
            return (h, msg, user) =>
            {
                try { return callback(Native.ReadMessage(msg, source(h))); }
                catch (Exception e) { Library.ReportCallbackException(e); return 0; }
            };
        }

        internal static NativeEventCallback EventThunk(Action<ulong, WipcEvent, ulong, Status> handler)
        {
            return (h, ev, related, status, user) =>
            {
                try { handler(h, (WipcEvent)ev, related, (Status)status); }
                catch (Exception e) { Library.ReportCallbackException(e); }
            };
        }

        public override string ToString()
        {
            return string.Format("{0}({1})", GetType().Name, IsClosed ? "closed" : "0x" + Handle.ToString("x"));
        }
    }
}
