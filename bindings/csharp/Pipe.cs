// Pipe.cs - MessageChannel (the message I/O and events of connections and shm channels), Connection,
// PipeServer.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Wipc
{
    /// <summary>Message I/O shared by pipe connections and shm channels: whole messages tagged with a
    /// uint32 type, request/reply, events. Timeouts are int milliseconds (Library.Infinite = forever,
    /// 0 = poll). Thread-safe: several threads may send, request and receive on one object.
    /// <para>Two ways to receive: call Receive (blocking) yourself, or subscribe to
    /// <see cref="MessageReceived"/> / <see cref="Disconnected"/>. The first subscription (or
    /// SetCallbacks) switches the object to callback mode for good (wipc_set_callbacks): Receive then
    /// throws WipcInvalidStateException, handlers run on a library thread one at a time, and a message
    /// that arrives while nobody is subscribed is dropped. Subscribe before the peer starts sending.</para></summary>
    public partial class MessageChannel : WipcObject
    {
        [ThreadStatic] static byte[]? replyBuffer;
        [ThreadStatic] static byte[]? receiveBuffer;
        uint maxReply;
        MessageCallback? onMessage;
        EventCallback? onEvent;
        EventHandler<MessageReceivedEventArgs>? messageReceived;
        EventHandler<DisconnectedEventArgs>? disconnected;

        internal MessageChannel(ulong handle) : base(handle) { }

        /// <summary>Raised, on a library thread, for each message (see the class remarks: the first
        /// subscription switches the object to callback mode).</summary>
        public event EventHandler<MessageReceivedEventArgs>? MessageReceived
        {
            add { messageReceived += value; UseEvents(); }
            remove { messageReceived -= value; }
        }

        /// <summary>Raised, on a library thread, once when the peer closes or dies
        /// (WIPC_EVENT_DISCONNECTED) or the transport fails (WIPC_EVENT_ERROR). Not raised by Dispose.</summary>
        public event EventHandler<DisconnectedEventArgs>? Disconnected
        {
            add { disconnected += value; UseEvents(); }
            remove { disconnected -= value; }
        }

        /// <summary>Installs the native callbacks of this object (not for server-owned connections,
        /// which get theirs from the server).</summary>
        private protected virtual void UseEvents()
        {
            EnsureNativeCallbacks(() => MessageThunk(h => this, DispatchMessage),
                                  () => EventThunk((h, ev, related, st) => DispatchEvent(ev, st)));
        }

        /// <summary>Hands a message to the 1.0 callback and the MessageReceived subscribers; returns the msg reply.</summary>
        internal int DispatchMessage(Message m)
        {
            int reply = 0;
            var cb = onMessage;
            if (cb != null)
                reply = cb(m);
            var handler = messageReceived;
            if (handler != null)
            {
                var args = new MessageReceivedEventArgs(m) { Reply = reply };
                Raise(handler, this, args);
                reply = args.Reply;
            }
            return reply;
        }

        internal void DispatchEvent(WipcEvent ev, Status st)
        {
            onEvent?.Invoke(this, ev, null, st);
            if (ev != WipcEvent.Connected)
                Raise(disconnected, this, new DisconnectedEventArgs(st, ev == WipcEvent.Error));
        }

        /// <summary>Sends a copy of <paramref name="data"/> as one message tagged <paramref name="type"/>,
        /// waiting up to <paramref name="timeoutMs"/> for room (wipc_send; Windows WriteFile on the pipe /
        /// the shm ring). Boundaries and order are kept. Throws WipcTimeoutException (no room in time: nothing
        /// was sent), WipcDisconnectedException, WipcTooLargeException, WipcClosedException (disposed while
        /// waiting), ObjectDisposedException.</summary>
        public unsafe void Send(ReadOnlySpan<byte> data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            ulong h = Live;
            int t = Native.Milliseconds(timeoutMs);
            fixed (byte* p = data)
                Native.Check(WipcNative.wipc_send(h, type, (IntPtr)p, (ulong)data.Length, t));
        }

        /// <summary>Send a byte array (null: ArgumentNullException; an empty array is an empty message).</summary>
        public void Send(byte[] data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            Send(Native.NotNull(data, nameof(data)).AsSpan(), type, timeoutMs);
        }

        /// <summary>Sends <paramref name="text"/> as UTF-8 (null: ArgumentNullException).</summary>
        public void Send(string text, uint type = 0, int timeoutMs = Library.Infinite)
        {
            Send(Encoding.UTF8.GetBytes(Native.NotNull(text, nameof(text))), type, timeoutMs);
        }

        /// <summary>Waits up to <paramref name="timeoutMs"/> for the next message (wipc_recv_message).
        /// Throws WipcTimeoutException, WipcDisconnectedException, WipcInvalidStateException (the object
        /// is in callback mode), WipcClosedException (disposed while waiting), ObjectDisposedException.</summary>
        public Message Receive(int timeoutMs = Library.Infinite)
        {
            return Receive(this, timeoutMs);
        }

        /// <summary>Sends a request and waits up to <paramref name="timeoutMs"/> for its reply
        /// (wipc_request). Several threads may have requests in flight on one object. Throws
        /// WipcTimeoutException, WipcDisconnectedException, WipcRemoteException (the peer answered with an
        /// error), WipcNotSupportedException (WIPC_PIPE_RAW connections), ObjectDisposedException.</summary>
        public unsafe byte[] Request(ReadOnlySpan<byte> data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            ulong h = Live;
            int t = Native.Milliseconds(timeoutMs);
            if (maxReply == 0)
                maxReply = GetInfo().MaxMessageSize;
            var buf = replyBuffer;
            if (buf == null || buf.Length < maxReply)
                replyBuffer = buf = new byte[maxReply];
            ulong got;
            fixed (byte* p = data)
                Native.Check(WipcNative.wipc_request(h, type, (IntPtr)p, (ulong)data.Length, buf, (ulong)buf.Length, out got, t));
            return buf.AsSpan(0, (int)got).ToArray();
        }

        /// <summary>Request with a byte array (null: ArgumentNullException).</summary>
        public byte[] Request(byte[] data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            return Request(Native.NotNull(data, nameof(data)).AsSpan(), type, timeoutMs);
        }

        /// <summary>Answers the request <paramref name="requestId"/> (Message.RequestId, nonzero) with a copy
        /// of <paramref name="data"/> (wipc_reply: waits for room with no timeout until the peer goes or the
        /// object is closed). Throws ArgumentOutOfRangeException for requestId 0, WipcDisconnectedException.</summary>
        public unsafe void Reply(ulong requestId, ReadOnlySpan<byte> data, uint type = 0)
        {
            if (requestId == 0)
                throw new ArgumentOutOfRangeException(nameof(requestId), "0 is not a request id");
            ulong h = Live;
            fixed (byte* p = data)
                Native.Check(WipcNative.wipc_reply(h, requestId, type, (IntPtr)p, (ulong)data.Length));
        }

        /// <summary>Reply with a byte array (null: ArgumentNullException).</summary>
        public void Reply(ulong requestId, byte[] data, uint type = 0)
        {
            Reply(requestId, Native.NotNull(data, nameof(data)).AsSpan(), type);
        }

        /// <summary>The 1.0 callback style: delivers messages to <paramref name="onMessage"/> and events to
        /// <paramref name="onEvent"/> on library threads (never concurrently for this object), beside any
        /// event subscribers; Receive() is then refused. Once per object (else InvalidOperationException).</summary>
        public void SetCallbacks(MessageCallback? onMessage, EventCallback? onEvent = null)
        {
            if (onMessage == null && onEvent == null)
                throw new ArgumentNullException(nameof(onMessage), "give onMessage, onEvent or both");
            if (HasCallbacks || this.onMessage != null || this.onEvent != null)
                throw new InvalidOperationException("the callbacks of an object are set once");
            this.onMessage = onMessage;
            this.onEvent = onEvent;
            UseEvents();
        }

        /// <summary>The peer's process id (0 if unknown or none).</summary>
        public uint PeerPid => GetInfo().PeerPid;

        internal static Message Receive(WipcObject source, int timeoutMs)
        {
            ulong h = source.Live;
            int t = Native.Milliseconds(timeoutMs);
            for (;;)
            {
                var buf = receiveBuffer;
                if (buf == null)
                    receiveBuffer = buf = new byte[64 * 1024];
                var m = new NativeMessage { struct_size = (uint)Marshal.SizeOf<NativeMessage>() };
                int st = WipcNative.wipc_recv_message(h, buf, (ulong)buf.Length, ref m, t);
                ulong size = m.size.ToUInt64();
                if (st == (int)Status.BufferTooSmall && size > (ulong)buf.Length)
                {
                    receiveBuffer = new byte[size];   // the message stays queued: fetch it again
                    continue;
                }
                Native.Check(st);
                return new Message(buf.AsSpan(0, (int)size).ToArray(), m.type, m.request_id, m.peer_pid, source);
            }
        }
    }

    /// <summary>A duplex pipe connection (Windows: a named pipe \\.\pipe\wipc-NAME; Linux: an AF_UNIX
    /// socket): from Connection.Connect, PipeServer.Accept, or made by a PipeServer in callback mode for
    /// each client (owned by the server: disposed when the client leaves or the server is disposed).</summary>
    public sealed partial class Connection : MessageChannel
    {
        readonly PipeServer? server;

        internal Connection(ulong handle, PipeServer? server = null) : base(handle) { this.server = server; }

        /// <summary>Connects to the pipe server <paramref name="name"/>, waiting up to
        /// <paramref name="timeoutMs"/> for one that is busy (wipc_pipe_connect; Windows CreateFileW +
        /// WaitNamedPipeW, Linux connect(2)). A name nobody serves throws WipcNotFoundException at once,
        /// unless the options' Flags have <see cref="Library.PipeWaitForServer"/> (since 1.1; then a server
        /// may still appear within <paramref name="timeoutMs"/>). Throws ArgumentNullException,
        /// WipcInvalidArgException (a bad name), WipcNotFoundException, WipcTimeoutException,
        /// WipcAccessDeniedException.</summary>
        public static Connection Connect(string name, int timeoutMs = 5000)
        {
            return Connect(name, PipeOptions.Default, timeoutMs);
        }

        /// <summary>Connect with options (Flags, MaxMessageSize apply).</summary>
        public static Connection Connect(string name, PipeOptions options, int timeoutMs = 5000)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_pipe_connect(name, ref options, Native.Milliseconds(timeoutMs), out h));
            return new Connection(h);
        }

        /// <summary>The server that owns this connection, null for Connect/Accept connections.</summary>
        public PipeServer? Server => server;

        /// <summary>Waits up to <paramref name="timeoutMs"/> (milliseconds; 0 = only check,
        /// <see cref="Library.Infinite"/> = no limit) until every message that Send queued on a
        /// <see cref="Library.PipeWriteBehind"/> connection is written into the pipe - handed to the OS
        /// (Windows WriteFile completed, Linux send(2)), not necessarily read by the peer. Returns at once
        /// on a connection without that flag (wipc_flush, since 1.1). Any thread. Throws
        /// WipcTimeoutException (messages still queued; they stay queued), WipcDisconnectedException (the
        /// connection ended with messages queued, or a queued message could not be written: see
        /// <see cref="Library.PipeWriteBehind"/>), WipcClosedException (disposed while waiting),
        /// ObjectDisposedException.</summary>
        public void Flush(int timeoutMs = Library.Infinite)
        {
            Native.Check(WipcNative.wipc_flush(Live, Native.Milliseconds(timeoutMs)));
        }

        /// <summary>The slice of one wipc_flush call of <see cref="FlushAsync"/>, in milliseconds: how soon
        /// a cancellation or a Dispose is seen while messages are still queued.</summary>
        const int FlushSliceMs = 50;

        /// <summary>Completes when every message that Send queued on a <see cref="Library.PipeWriteBehind"/>
        /// connection is written into the pipe (as <see cref="Flush"/> with no time limit, wipc_flush, since
        /// 1.1): handed to the OS, not necessarily read by the peer. Returns a completed Task at once when
        /// nothing is queued (always on a connection without that flag). Otherwise a thread-pool thread
        /// calls wipc_flush in slices of 50 ms until the queue is empty, so it holds that thread while the
        /// peer does not read; the library's I/O thread keeps writing meanwhile. Faults with
        /// WipcDisconnectedException (the connection ended with messages queued, or a queued message could
        /// not be written: see <see cref="Library.PipeWriteBehind"/>), WipcClosedException (disposed while
        /// pending); ObjectDisposedException if already disposed. Cancelled by
        /// <paramref name="cancellationToken"/> (OperationCanceledException carrying it, seen within about
        /// 50 ms): the messages stay queued and are written later.</summary>
        public Task FlushAsync(CancellationToken cancellationToken = default)
        {
            if (cancellationToken.IsCancellationRequested)
                return Task.FromCanceled(cancellationToken);
            int st = WipcNative.wipc_flush(Live, 0);
            if (st != (int)Status.Timeout)
                return st < 0 ? Task.FromException(Native.Error(st)) : Task.CompletedTask;
            return Task.Run(() =>
            {
                for (;;)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (IsClosed)   // disposed between two slices: as if disposed while wipc_flush waited
                        throw WipcException.Create((int)Status.Closed, "wipc_flush: the connection was disposed while messages were queued", 0);
                    int s = WipcNative.wipc_flush(Handle, FlushSliceMs);
                    if (s == (int)Status.Timeout)
                        continue;
                    if (s == (int)Status.BadHandle && IsClosed)
                        s = (int)Status.Closed;
                    Native.Check(s);
                    return;
                }
            }, cancellationToken);
        }

        private protected override void UseEvents()
        {
            if (server != null)
                server.UseEvents();   // a server's connections inherit its callbacks
            else
                base.UseEvents();
        }

        private protected override void OnClosed()
        {
            server?.Forget(Handle);
        }
    }

    /// <summary>Serves the pipe NAME (wipc_pipe_listen). Two ways to take clients:
    /// call Accept for each, or subscribe to <see cref="ClientConnected"/> (or pass callbacks): the server
    /// then accepts by itself, raising ClientConnected for each new Connection (owned by the server) and,
    /// for each message, that Connection's MessageReceived event and the server's
    /// <see cref="MessageReceived"/>. The first subscription switches the server to callback mode for good
    /// (Accept then throws WipcInvalidStateException).</summary>
    public sealed partial class PipeServer : WipcObject
    {
        readonly Dictionary<ulong, Connection> connections = new Dictionary<ulong, Connection>();
        readonly MessageCallback? onMessage;
        readonly EventCallback? onEvent;
        EventHandler<ClientConnectedEventArgs>? clientConnected;
        EventHandler<MessageReceivedEventArgs>? messageReceived;

        /// <summary>The name served.</summary>
        public string Name { get; }

        /// <summary>Serves <paramref name="name"/> with default options; with a callback, in callback mode
        /// (see the class remarks). Throws ArgumentNullException, WipcInvalidArgException (a bad name),
        /// WipcAddrInUseException (already served).</summary>
        public PipeServer(string name, MessageCallback? onMessage = null, EventCallback? onEvent = null)
            : this(name, PipeOptions.Default, onMessage, onEvent) { }

        /// <summary>Serves <paramref name="name"/> with <paramref name="options"/> (Flags, MaxMessageSize,
        /// MaxInstances, BufferSize).</summary>
        public PipeServer(string name, PipeOptions options, MessageCallback? onMessage = null, EventCallback? onEvent = null)
            : base(Listen(name, options))
        {
            Name = name;
            this.onMessage = onMessage;
            this.onEvent = onEvent;
            if (onMessage == null && onEvent == null)
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

        static ulong Listen(string name, PipeOptions options)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_pipe_listen(name, ref options, out h));
            return h;
        }

        /// <summary>Raised, on a library thread, when a client connected (callback mode, see the class remarks).</summary>
        public event EventHandler<ClientConnectedEventArgs>? ClientConnected
        {
            add { clientConnected += value; UseEvents(); }
            remove { clientConnected -= value; }
        }

        /// <summary>Raised, on a library thread, for each message of each client (after that
        /// connection's own MessageReceived); e.Message.Source is the Connection.</summary>
        public event EventHandler<MessageReceivedEventArgs>? MessageReceived
        {
            add { messageReceived += value; UseEvents(); }
            remove { messageReceived -= value; }
        }

        internal void UseEvents()
        {
            EnsureNativeCallbacks(() => MessageThunk(ConnectionOf, OnMessage), () => EventThunk(OnEvent));
        }

        /// <summary>Waits up to <paramref name="timeoutMs"/> for the next client (wipc_pipe_accept); the
        /// Connection is yours to dispose. Throws WipcTimeoutException, WipcInvalidStateException (callback
        /// mode), WipcClosedException (disposed while waiting), ObjectDisposedException.</summary>
        public Connection Accept(int timeoutMs = Library.Infinite)
        {
            ulong h;
            Native.Check(WipcNative.wipc_pipe_accept(Live, Native.Milliseconds(timeoutMs), out h));
            return new Connection(h);
        }

        /// <summary>The live connections the server accepted by itself (callback mode).</summary>
        public Connection[] Connections
        {
            get { lock (connections) { var a = new Connection[connections.Count]; connections.Values.CopyTo(a, 0); return a; } }
        }

        /// <summary>Stops serving and disposes the connections the server accepted by itself.</summary>
        private protected override void OnClosed()
        {
            foreach (var c in Connections)
                c.Dispose();
        }

        internal void Forget(ulong h)
        {
            lock (connections)
                connections.Remove(h);
        }

        Connection ConnectionOf(ulong h)
        {
            lock (connections)
            {
                if (!connections.TryGetValue(h, out var c))
                    connections[h] = c = new Connection(h, this);
                return c;
            }
        }

        int OnMessage(Message m)
        {
            var c = (Connection)m.Source;
            int reply = c.DispatchMessage(m);
            if (onMessage != null)
                reply = onMessage(m);
            Raise(messageReceived, this, new MessageReceivedEventArgs(m));
            return reply;
        }

        void OnEvent(ulong h, WipcEvent ev, ulong related, Status status)
        {
            if (h == Handle)
            {
                var conn = ev == WipcEvent.Connected && related != 0 ? ConnectionOf(related) : null;
                onEvent?.Invoke(this, ev, conn, status);
                if (conn != null)
                    Raise(clientConnected, this, new ClientConnectedEventArgs(conn));
                return;
            }
            var c = ConnectionOf(h);
            try
            {
                onEvent?.Invoke(c, ev, null, status);
                c.DispatchEvent(ev, status);
            }
            finally
            {
                if (ev != WipcEvent.Connected)
                    c.Dispose();
            }
        }
    }
}
