// Objects.cs - what every wipc object shares: the SafeHandle, the WipcObject base class (IDisposable,
// IAsyncDisposable, the native callbacks behind the .NET events), Message, Info, the event argument
// classes, and the 1.0 callback delegates.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Tasks;

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

    /// <summary>Receives a message on a library thread (the 1.0 callback style; see also the
    /// MessageReceived events). The return value is the reply a msg sender gets (ignored on pipes and shm
    /// channels). An exception is reported to <see cref="Library.CallbackException"/>.</summary>
    public delegate int MessageCallback(Message message);

    /// <summary>Receives an event on a library thread (the 1.0 callback style): `source` is the object it
    /// concerns, `related` the new Connection for a server's Connected event (else null), `status` why
    /// (Disconnected/Error).</summary>
    public delegate void EventCallback(WipcObject source, WipcEvent ev, WipcObject? related, Status status);

    /// <summary>One received message, a copy owned by the receiver.</summary>
    public sealed class Message
    {
        /// <summary>The message's bytes.</summary>
        public byte[] Data { get; }
        /// <summary>The sender's uint32 tag.</summary>
        public uint Type { get; }
        /// <summary>Nonzero if the sender waits for a <see cref="Reply(ReadOnlySpan{byte}, uint?)"/> (pipe and shm requests).</summary>
        public ulong RequestId { get; }
        /// <summary>The sender's process id, 0 if unknown.</summary>
        public uint PeerPid { get; }
        /// <summary>The object the message arrived on (a Connection, ShmChannel or MsgEndpoint).</summary>
        public WipcObject Source { get; }

        internal Message(byte[] data, uint type, ulong requestId, uint peerPid, WipcObject source)
        {
            Data = data; Type = type; RequestId = requestId; PeerPid = peerPid; Source = source;
        }

        /// <summary>True if the sender waits for a reply (pipe and shm requests).</summary>
        public bool IsRequest => RequestId != 0;

        /// <summary>The data decoded as UTF-8.</summary>
        public string Text => Encoding.UTF8.GetString(Data);

        /// <summary>Answers this request on the connection or channel it came from with a copy of
        /// <paramref name="data"/>, tagged <paramref name="type"/> (default: the request's type) (wipc_reply:
        /// blocks until there is room, the peer goes or the object is closed). Throws
        /// InvalidOperationException if the message is not a request (<see cref="IsRequest"/> false) or came
        /// from a msg endpoint, WipcDisconnectedException if the peer went.</summary>
        public void Reply(ReadOnlySpan<byte> data, uint? type = null) => Channel().Reply(RequestId, data, type ?? Type);

        /// <summary>Reply with a byte array (null: ArgumentNullException).</summary>
        public void Reply(byte[] data, uint? type = null) => Reply(Native.NotNull(data, nameof(data)).AsSpan(), type);

        /// <summary>Reply with <paramref name="text"/> as UTF-8.</summary>
        public void Reply(string text, uint? type = null) => Reply(Encoding.UTF8.GetBytes(Native.NotNull(text, nameof(text))), type);

        /// <summary>Answers this request with a remote error (1.1, wipc_reply_error): the requester's
        /// Request/RequestAsync throws WipcRemoteException with <paramref name="code"/> and
        /// <paramref name="message"/>. InvalidOperationException if the message is not a request.</summary>
        public void ReplyError(int code, string message) => Channel().ReplyError(RequestId, code, message);

        internal MessageChannel Channel()
        {
            if (!IsRequest)
                throw new InvalidOperationException("the message is not a request: nobody waits for a reply");
            return Source as MessageChannel
                   ?? throw new InvalidOperationException("only requests of pipe connections and shm channels have replies");
        }
    }

    /// <summary>What wipc_get_info reports about an object.</summary>
    public sealed class Info
    {
        /// <summary>WIPC_KIND_* of the object.</summary>
        public uint Kind { get; }
        /// <summary>WIPC_TRANSPORT_* of the object.</summary>
        public uint Transport { get; }
        /// <summary>The flags it was made with.</summary>
        public uint Flags { get; }
        /// <summary>The peer's process id, 0 if unknown or none.</summary>
        public uint PeerPid { get; }
        /// <summary>The peer's uid (Linux), 0 if unknown.</summary>
        public uint PeerUid { get; }
        /// <summary>1 while a peer is attached.</summary>
        public uint Connected { get; }
        /// <summary>The largest message in bytes.</summary>
        public uint MaxMessageSize { get; }
        /// <summary>Messages sent on the object.</summary>
        public ulong MessagesSent { get; }
        /// <summary>Messages received on the object.</summary>
        public ulong MessagesReceived { get; }
        /// <summary>Payload bytes sent.</summary>
        public ulong BytesSent { get; }
        /// <summary>Payload bytes received.</summary>
        public ulong BytesReceived { get; }
        /// <summary>The name or path the object was made with.</summary>
        public string Name { get; }

        internal Info(NativeInfo i)
        {
            Kind = i.kind; Transport = i.transport; Flags = i.flags; PeerPid = i.peer_pid; PeerUid = i.peer_uid;
            MessagesSent = i.messages_sent; MessagesReceived = i.messages_received;
            BytesSent = i.bytes_sent; BytesReceived = i.bytes_received;
            Connected = i.connected; MaxMessageSize = i.max_message_size; Name = i.name ?? "";
        }
    }

    /// <summary>Arguments of the MessageReceived events.</summary>
    public sealed class MessageReceivedEventArgs : EventArgs
    {
        internal MessageReceivedEventArgs(Message message) { Message = message; }
        /// <summary>The message (Message.Source is the connection or channel; Message.Reply answers it).</summary>
        public Message Message { get; }
        /// <summary>MsgEndpoint only: the int32 reply the sender's Msg.Send returns (default 0).</summary>
        public int Reply { get; set; }
    }

    /// <summary>Arguments of <see cref="PipeServer.ClientConnected"/>.</summary>
    public sealed class ClientConnectedEventArgs : EventArgs
    {
        internal ClientConnectedEventArgs(Connection connection) { Connection = connection; }
        /// <summary>The new connection, owned by the server (disposed when the client leaves or the
        /// server is disposed). Subscribe to its events here: none of its messages is delivered before
        /// this handler returns.</summary>
        public Connection Connection { get; }
    }

    /// <summary>Arguments of the Disconnected events.</summary>
    public sealed class DisconnectedEventArgs : EventArgs
    {
        internal DisconnectedEventArgs(Status status, bool failed) { Status = status; Failed = failed; }
        /// <summary>Why: Status.Disconnected (the peer closed or died), or the transport's error.</summary>
        public Status Status { get; }
        /// <summary>True for WIPC_EVENT_ERROR (the transport failed), false for a peer that left.</summary>
        public bool Failed { get; }
    }

    /// <summary>Owns one library handle; its release (wipc_close) is guaranteed by the runtime. Calls
    /// pass the handle's value without AddRef: the library's handles carry generation counters, so a
    /// closed one is refused (WIPC_E_BAD_HANDLE), never reused, and Dispose() from another thread
    /// must close at once to cancel a blocked call (WIPC_E_CLOSED).</summary>
    internal sealed class WipcSafeHandle : SafeHandle
    {
        internal WipcSafeHandle(ulong value) : base(IntPtr.Zero, true) { SetHandle(new IntPtr((long)value)); }
        public override bool IsInvalid => handle == IntPtr.Zero;
        internal ulong Value => (ulong)handle.ToInt64();
        protected override bool ReleaseHandle()
        {
            WipcNative.wipc_close(Value);   // WIPC_E_BAD_HANDLE: Library.Shutdown() closed it already
            return true;
        }
    }

    /// <summary>Base class of every wipc object. Dispose() (or Close(), DisposeAsync()) closes it
    /// (wipc_close): threads blocked on it get WipcClosedException, pending asynchronous operations
    /// complete with it, and once it returns no callback or event handler of the object runs any more.
    /// Any other call after Dispose throws ObjectDisposedException. An object with callbacks or event
    /// subscribers stays alive (and keeps its delegates alive) until it is disposed.</summary>
    public abstract class WipcObject : IDisposable, IAsyncDisposable
    {
        static readonly HashSet<WipcObject> withCallbacks = new HashSet<WipcObject>();
        readonly WipcSafeHandle safe;
        readonly object callbackLock = new object();
        object? callbacks;   // the delegates the library holds pointers to

        static WipcObject()
        {
            AppDomain.CurrentDomain.ProcessExit += (s, e) => WipcNative.wipc_shutdown();
        }

        internal WipcObject(ulong handle) { safe = new WipcSafeHandle(handle); }

        /// <summary>The library handle (0 is never valid; stays readable after Dispose).</summary>
        public ulong Handle => safe.Value;

        /// <summary>True once the object was disposed.</summary>
        public bool IsClosed => safe.IsClosed;

        /// <summary>The handle for a call: ObjectDisposedException once disposed.</summary>
        internal ulong Live
        {
            get
            {
                if (safe.IsClosed)
                    throw new ObjectDisposedException(GetType().Name);
                return safe.Value;
            }
        }

        /// <summary>Kind, transport, peer, counters and name of the object (wipc_get_info).</summary>
        public Info GetInfo()
        {
            var i = new NativeInfo { struct_size = (uint)Marshal.SizeOf<NativeInfo>() };
            Native.Check(WipcNative.wipc_get_info(Live, ref i));
            return new Info(i);
        }

        /// <summary>Closes the object (a second call does nothing). Do not call it from one of the
        /// object's own handlers with other threads waiting on it: it waits for running callbacks.</summary>
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

        /// <summary>Dispose() as IAsyncDisposable (the close itself does not block on I/O: it completes
        /// the object's pending operations with WipcClosedException and returns).</summary>
        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }

        /// <summary>Same as Dispose().</summary>
        public void Close() => Dispose();

        /// <summary>Called once, after the handle was closed.</summary>
        private protected virtual void OnClosed() { }

        /// <summary>True once native callbacks are installed (they cannot be removed: wipc_set_callbacks).</summary>
        internal bool HasCallbacks => callbacks != null;

        /// <summary>Installs the native callbacks once; later calls do nothing.</summary>
        internal void EnsureNativeCallbacks(Func<NativeMessageCallback?> onMessage, Func<NativeEventCallback?> onEvent)
        {
            lock (callbackLock)
            {
                if (callbacks != null)
                    return;
                var m = onMessage();
                var e = onEvent();
                ulong h = Live;
                lock (withCallbacks)
                    withCallbacks.Add(this);
                callbacks = new object?[] { m, e };
                int st = WipcNative.wipc_set_callbacks(h, m, e, IntPtr.Zero);
                if (st < 0)
                {
                    var ex = Native.Error(st);
                    lock (withCallbacks)
                        withCallbacks.Remove(this);
                    callbacks = null;
                    throw ex;
                }
            }
        }

        internal static void ForgetAllCallbacks()
        {
            lock (withCallbacks)
                withCallbacks.Clear();
        }

        internal static NativeMessageCallback MessageThunk(Func<ulong, WipcObject> source, Func<Message, int> callback)
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

        /// <summary>Raises `handler` with `args`, each subscriber's exception reported to
        /// Library.CallbackException without stopping the others.</summary>
        internal static void Raise<T>(EventHandler<T>? handler, object sender, T args)
        {
            if (handler == null)
                return;
            foreach (EventHandler<T> h in handler.GetInvocationList())
            {
                try { h(sender, args); }
                catch (Exception e) { Library.ReportCallbackException(e); }
            }
        }

        /// <summary>"Connection(0x...)" or "Connection(closed)".</summary>
        public override string ToString()
        {
            return string.Format("{0}({1})", GetType().Name, IsClosed ? "closed" : "0x" + Handle.ToString("x"));
        }
    }
}
