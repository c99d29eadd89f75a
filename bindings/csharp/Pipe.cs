// Pipe.cs - MessageChannel (the message I/O of connections and shm channels), Connection, PipeServer.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Wipc
{
    /// <summary>Message I/O shared by pipe connections and shm channels: whole messages (byte[])
    /// tagged with a uint type, request/reply, callbacks. Timeouts are milliseconds
    /// (Library.Infinite = forever, 0 = poll).</summary>
    public class MessageChannel : WipcObject
    {
        [ThreadStatic] static byte[] replyBuffer;
        [ThreadStatic] static byte[] receiveBuffer;
        uint maxReply;

        internal MessageChannel(ulong handle) : base(handle) { }

        /// <summary>Sends one message; waits up to timeoutMs for room. Boundaries and order are kept.</summary>
        public void Send(byte[] data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            Native.Check(WipcNative.wipc_send(Handle, type, data, (ulong)(data == null ? 0 : data.Length), timeoutMs));
        }

        /// <summary>Sends `text` as UTF-8.</summary>
        public void Send(string text, uint type = 0, int timeoutMs = Library.Infinite)
        {
            Send(Encoding.UTF8.GetBytes(text), type, timeoutMs);
        }

        /// <summary>Waits up to timeoutMs for the next message. Throws WipcTimeoutException,
        /// WipcDisconnectedException, WipcInvalidStateException (the object has callbacks).</summary>
        public Message Receive(int timeoutMs = Library.Infinite)
        {
            return Receive(this, timeoutMs);
        }

        /// <summary>Sends a request, waits up to timeoutMs for its reply and returns it. Several threads
        /// may have requests in flight on one object.</summary>
        public byte[] Request(byte[] data, uint type = 0, int timeoutMs = Library.Infinite)
        {
            if (maxReply == 0)
                maxReply = GetInfo().MaxMessageSize;
            var buf = replyBuffer;
            if (buf == null || buf.Length < maxReply)
                replyBuffer = buf = new byte[maxReply];
            ulong got;
            Native.Check(WipcNative.wipc_request(Handle, type, data, (ulong)(data == null ? 0 : data.Length), buf,
                                                 (ulong)buf.Length, out got, timeoutMs));
            var reply = new byte[got];
            Buffer.BlockCopy(buf, 0, reply, 0, (int)got);
            return reply;
        }

        /// <summary>Answers the request `requestId` (Message.RequestId).</summary>
        public void Reply(ulong requestId, byte[] data, uint type = 0)
        {
            Native.Check(WipcNative.wipc_reply(Handle, requestId, type, data, (ulong)(data == null ? 0 : data.Length)));
        }

        /// <summary>Delivers messages to onMessage and events to onEvent on library threads (never
        /// concurrently for this object); Receive() is then refused. Once per object.</summary>
        public void SetCallbacks(MessageCallback onMessage, EventCallback onEvent = null)
        {
            SetNativeCallbacks(onMessage == null ? null : MessageThunk(h => this, onMessage),
                               onEvent == null ? null : EventThunk((h, ev, related, st) => onEvent(this, ev, null, st)));
        }

        /// <summary>The peer's process id (0 if unknown or none).</summary>
        public uint PeerPid { get { return GetInfo().PeerPid; } }

        internal static Message Receive(WipcObject source, int timeoutMs)
        {
            for (;;)
            {
                var buf = receiveBuffer;
                if (buf == null)
                    receiveBuffer = buf = new byte[64 * 1024];
                var m = new NativeMessage { struct_size = (uint)Marshal.SizeOf(typeof(NativeMessage)) };
                int st = WipcNative.wipc_recv_message(source.Handle, buf, (ulong)buf.Length, ref m, timeoutMs);
                ulong size = m.size.ToUInt64();
                if (st == WipcNative.WIPC_E_BUFFER_TOO_SMALL && size > (ulong)buf.Length)
                {
                    receiveBuffer = new byte[size];   // the message stays queued: fetch it again
                    continue;
                }
                Native.Check(st);
                var data = new byte[size];
                Buffer.BlockCopy(buf, 0, data, 0, (int)size);
                return new Message(data, m.type, m.request_id, m.peer_pid, source);
            }
        }
    }

    /// <summary>A duplex pipe connection: from Connection.Connect, PipeServer.Accept, or made by a
    /// PipeServer with callbacks for each client (owned by the server: disposed when the client leaves
    /// or the server is disposed).</summary>
    public sealed class Connection : MessageChannel
    {
        readonly PipeServer server;

        internal Connection(ulong handle, PipeServer server = null) : base(handle) { this.server = server; }

        /// <summary>Connects to the pipe server `name`, waiting up to timeoutMs for one that is busy. A
        /// name nobody serves throws WipcNotFoundException at once, unless options.Flags has
        /// WIPC_PIPE_WAIT_FOR_SERVER (since 1.1; then a server may still appear within timeoutMs).
        /// Throws WipcNotFoundException, WipcTimeoutException, WipcAccessDeniedException.</summary>
        public static Connection Connect(string name, int timeoutMs = 5000)
        {
            return Connect(name, PipeOptions.Default, timeoutMs);
        }

        /// <summary>Connect with options (Flags, MaxMessageSize apply).</summary>
        public static Connection Connect(string name, PipeOptions options, int timeoutMs = 5000)
        {
            ulong h;
            Native.Check(WipcNative.wipc_pipe_connect(name, ref options, timeoutMs, out h));
            return new Connection(h);
        }

        protected override void OnClosed()
        {
            if (server != null)
                server.Forget(Handle);
        }
    }

    /// <summary>Serves the pipe `name`. Without callbacks, call Accept() for each client. With callbacks
    /// the server accepts by itself: onEvent(server, Connected, connection, Ok) when a client arrives,
    /// onMessage(message) for each of its messages (message.Source is the connection, message.Reply
    /// answers), onEvent(connection, Disconnected, null, status) when it leaves (then the server
    /// disposes it). Callbacks of one connection never run concurrently.</summary>
    public sealed class PipeServer : WipcObject
    {
        readonly Dictionary<ulong, Connection> connections = new Dictionary<ulong, Connection>();
        readonly EventCallback onEvent;

        /// <summary>The name served.</summary>
        public string Name { get; }

        public PipeServer(string name, MessageCallback onMessage = null, EventCallback onEvent = null)
            : this(name, PipeOptions.Default, onMessage, onEvent) { }

        public PipeServer(string name, PipeOptions options, MessageCallback onMessage = null, EventCallback onEvent = null)
            : base(Listen(name, options))
        {
            Name = name;
            this.onEvent = onEvent;
            if (onMessage == null && onEvent == null)
                return;
            try
            {
                SetNativeCallbacks(onMessage == null ? null : MessageThunk(ConnectionOf, onMessage), EventThunk(OnEvent));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        static ulong Listen(string name, PipeOptions options)
        {
            ulong h;
            Native.Check(WipcNative.wipc_pipe_listen(name, ref options, out h));
            return h;
        }

        /// <summary>Waits up to timeoutMs for the next client; the Connection is yours to dispose.</summary>
        public Connection Accept(int timeoutMs = Library.Infinite)
        {
            ulong h;
            Native.Check(WipcNative.wipc_pipe_accept(Handle, timeoutMs, out h));
            return new Connection(h);
        }

        /// <summary>The live connections a server with callbacks accepted.</summary>
        public Connection[] Connections
        {
            get { lock (connections) { var a = new Connection[connections.Count]; connections.Values.CopyTo(a, 0); return a; } }
        }

        /// <summary>Stops serving and disposes the connections the server accepted by itself.</summary>
        protected override void OnClosed()
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
                Connection c;
                if (!connections.TryGetValue(h, out c))
                    connections[h] = c = new Connection(h, this);
                return c;
            }
        }

        void OnEvent(ulong h, WipcEvent ev, ulong related, Status status)
        {
            if (h == Handle)
            {
                var conn = ev == WipcEvent.Connected && related != 0 ? ConnectionOf(related) : null;
                if (onEvent != null)
                    onEvent(this, ev, conn, status);
                return;
            }
            var c = ConnectionOf(h);
            try
            {
                if (onEvent != null)
                    onEvent(c, ev, null, status);
            }
            finally
            {
                if (ev != WipcEvent.Connected)
                    c.Dispose();
            }
        }
    }
}
