// TransportTests.cs - the blocking API of each transport, in one process: pipe, shm, msg, region,
// Library; Span overloads; the receive buffer growing for large messages.
using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class TransportTests
    {
        [Fact]
        public void LibraryVersionAndStatusNames()
        {
            Assert.Equal("1", Library.Version.Split('.')[0]);
            Assert.Equal(1u, Library.VersionNumber >> 16);
            Assert.Equal("WIPC_E_TIMEOUT", Library.StatusName(Status.Timeout));
            Assert.Equal("WIPC_E_INVALID_STATE", Library.StatusName(Status.InvalidState));
            Assert.Equal(-1, Library.Infinite);
        }

        [Fact]
        public void PipeAcceptSendReceiveRequestReply()
        {
            string name = Name("pipe");
            using var server = new PipeServer(name);
            Assert.Equal(name, server.Name);
            using var client = Connection.Connect(name, 5000);
            using var conn = server.Accept(5000);
            Assert.Null(conn.Server);

            client.Send(B("bytes"), 3);
            client.Send("text", 4);
            client.Send(new byte[] { 1, 2, 3, 4, 5 }.AsSpan(1, 3), 5);
            client.Send(Array.Empty<byte>());
            var m = conn.Receive(5000);
            Assert.Equal(("bytes", 3u, false), (m.Text, m.Type, m.IsRequest));
            var t = conn.Receive(5000);
            Assert.Equal(("text", 4u), (t.Text, t.Type));
            var s = conn.Receive(5000);
            Assert.Equal(new byte[] { 2, 3, 4 }, s.Data);
            Assert.Equal(5u, s.Type);
            Assert.Empty(conn.Receive(5000).Data);

            var reply = Task.Run(() => client.Request(B("question").AsSpan(), 9, 5000));
            var req = conn.Receive(5000);
            Assert.True(req.IsRequest);
            Assert.Equal(9u, req.Type);
            Assert.Same(conn, req.Source);
            req.Reply(B("answer").AsSpan(), 10);
            Assert.Equal("answer", S(reply.Result));

            var reply2 = Task.Run(() => client.Request(B("q2")));
            var req2 = conn.Receive(5000);
            conn.Reply(req2.RequestId, B("a2"));
            Assert.Equal("a2", S(reply2.Result));

            Assert.Equal((uint)Environment.ProcessId, client.PeerPid);
            var info = client.GetInfo();
            Assert.True(info.MessagesSent >= 6);
            Assert.Equal(1u, info.Connected);
            Assert.Equal(name, info.Name);
            Assert.True(info.MaxMessageSize > 0);
            Assert.Contains("Connection(0x", client.ToString());
        }

        [Fact]
        public void PipeOptionsAndLargeMessages()
        {
            string name = Name("big");
            var o = PipeOptions.Default;
            Assert.Equal(64u, o.MaxInstances);
            o.MaxMessageSize = 4 << 20;
            using var server = new PipeServer(name, o);
            using var client = Connection.Connect(name, o, 5000);
            using var conn = server.Accept(5000);
            var big = Enumerable.Range(0, 3 << 20).Select(i => (byte)(i * 7)).ToArray();
            var sent = Task.Run(() => client.Send(big));
            Assert.Equal(big, conn.Receive(10000).Data);   // larger than the 64 KiB receive buffer
            sent.Wait();
            Assert.Throws<WipcTooLargeException>(() => client.Send(new byte[(4 << 20) + 1]));
        }

        [Fact]
        public void PipeWriteBehindQueuesInOrderAndFlushes()
        {
            string name = Name("wb");
            var o = PipeOptions.Default;
            o.Flags = Library.PipeWriteBehind;
            o.MaxQueuedMessages = 64;
            using var server = new PipeServer(name, o);
            using var client = Connection.Connect(name, o, 5000);
            using var conn = server.Accept(5000);
            client.Send(new byte[] { 1 }, 1, 5000);
            client.Flush(0);   // a lone message was written at once: nothing queued
            Assert.Equal(new byte[] { 1 }, conn.Receive(5000).Data);
            int sent = 0;   // the reader waits: the pipe fills, then the bounded queue
            while (sent < 1000000)
            {
                try { client.Send(BitConverter.GetBytes(sent), 2, 0); }
                catch (WipcTimeoutException) { break; }
                sent++;
            }
            Assert.InRange(sent, 64, 999999);
            Assert.Throws<WipcTimeoutException>(() => client.Flush(50));
            for (int i = 0; i < sent; i++)
                Assert.Equal(i, BitConverter.ToInt32(conn.Receive(10000).Data, 0));
            client.Flush(10000);
            o.Flags = Library.PipeWriteBehind | Library.PipeRaw;
            Assert.Throws<WipcInvalidArgException>(() => Connection.Connect(name, o, 100));
        }

        [Fact]
        public void ShmChannelRoundTrips()
        {
            string name = Name("shm");
            var o = ShmOptions.Default;
            o.Capacity = 1 << 16;
            using var creator = ShmChannel.Create(name, o);
            using var opener = ShmChannel.Open(name, 5000);
            opener.Send(B("one"), 1);
            Assert.Equal("one", creator.Receive(5000).Text);
            var reply = Task.Run(() => opener.Request(B("ping")));
            var req = creator.Receive(5000);
            req.Reply("pong");
            Assert.Equal("pong", S(reply.Result));
            Assert.Throws<WipcBusyException>(() => ShmChannel.Open(name, 0));
            Assert.Throws<WipcAddrInUseException>(() => ShmChannel.Create(name));
        }

        [Fact]
        public void RegionsAndMappedFiles()
        {
            string name = Name("region");
            using var r = Region.Create(name, 4096);
            Assert.Equal(4096ul, r.Size);
            Assert.NotEqual(IntPtr.Zero, r.Pointer);
            Assert.False(r.ReadOnly);
            r.Write(100, B("shared"));
            r.Write(200, new byte[] { 9, 8, 7 }.AsSpan());
            using var ro = Region.Open(name, readOnly: true);
            Assert.Equal("shared", S(ro.Read(100, 6)));
            var span = new byte[3];
            ro.Read(200, span.AsSpan());
            Assert.Equal(new byte[] { 9, 8, 7 }, span);
            var denied = Assert.Throws<WipcAccessDeniedException>(() => ro.Write(0, B("x")));
            Assert.IsAssignableFrom<UnauthorizedAccessException>(denied);
            Assert.Throws<ArgumentOutOfRangeException>(() => ro.Read(4090, 10));
            Assert.Throws<ArgumentOutOfRangeException>(() => r.Write(4095, B("xy")));

            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), name + ".map");
            try
            {
                using (var f = Region.MapFile(path, 1000))
                    f.Write(10, B("file"));
                using var g = Region.MapFile(path);
                Assert.Equal(1000ul, g.Size);
                Assert.Equal("file", S(g.Read(10, 4)));
            }
            finally { System.IO.File.Delete(path); }
        }

        [Fact]
        public void MsgSendReplyBroadcastListAndQueue()
        {
            string prefix = Name("msg");
            using var cb = new MsgEndpoint(prefix + "-a", m => m.Data.Sum(b => b));
            var o = MsgOptions.Default;
            o.QueueDepth = 4;
            using var queued = new MsgEndpoint(prefix + "-b", o);
            Assert.Equal(prefix + "-a", cb.Name);
            Assert.Equal(3, Msg.Send(prefix + "-a", new byte[] { 1, 2 }, 0, 5000));
            Assert.Equal(6, Msg.Send(prefix + "-a", new byte[] { 0, 6, 0 }.AsSpan()));
            Assert.Equal(0, Msg.Send(prefix + "-b", B("queued"), 7));
            var m = queued.Receive(5000);
            Assert.Equal(("queued", 7u, false), (m.Text, m.Type, m.IsRequest));
            Assert.Throws<InvalidOperationException>(() => m.Reply(B("no")));
            Assert.Equal(2u, Msg.Broadcast(prefix, B("all")));
            Assert.Equal(2u, Msg.Broadcast(prefix, B("all").AsSpan()));
            Assert.Equal(new[] { prefix + "-a", prefix + "-b" }, Msg.List(prefix).OrderBy(s => s).ToArray());
            Assert.Empty(Msg.List(prefix + "-none"));
        }

        [Fact]
        public void LogCallbackReceivesLines()
        {
            var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
            Library.SetLogCallback((level, text) => lines.Enqueue(text), Library.LogDebug);
            try
            {
                WaitFor(() =>
                {
                    Assert.Throws<WipcNotFoundException>(() => Connection.Connect(Name("nobody"), 0));   // logged at LogDebug
                    return !lines.IsEmpty;
                }, "a log line");
            }
            finally { Library.SetLogCallback(null); }
        }
    }
}
