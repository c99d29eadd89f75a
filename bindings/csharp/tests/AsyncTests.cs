// AsyncTests.cs - the Task-based API (1.1): success, timeout, cancellation, dispose while pending, a
// peer killed while pending, async streams, async handlers and remote errors (also with Python ctypes
// peers, both ways), and 1,000 concurrent RequestAsync on one connection.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class AsyncTests
    {
        static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

        /// <summary>The exception `t` ends with (within 30 s).</summary>
        static async Task<Exception> Fails(Task t)
        {
            if (await Task.WhenAny(t, Task.Delay(TimeSpan.FromSeconds(30))) != t)
                throw new Xunit.Sdk.XunitException("the operation did not complete within 30 s");
            var e = await Record.ExceptionAsync(() => t);
            Assert.NotNull(e);
            return e!;
        }

        static Func<Message, Task<byte[]>> Upper = m => Task.FromResult(B(m.Text.ToUpperInvariant()));

        [Fact]
        public async Task ConnectAcceptSendReceiveRequest()
        {
            string name = Name("apipe");
            await using var server = new PipeServer(name);
            var accepting = server.AcceptAsync();
            await using var client = await Within(Connection.ConnectAsync(name, Long));
            await using var conn = await Within(accepting);
            await client.SendAsync(B("async hello"), 5).WaitAsync(Long);
            var m = await Within(conn.ReceiveAsync());
            Assert.Equal(("async hello", 5u), (m.Text, m.Type));

            var reply = client.RequestAsync(B("question"), 9, Long);
            var req = await Within(conn.ReceiveAsync(Long));
            Assert.True(req.IsRequest);
            req.Reply("answer");
            Assert.Equal("answer", S(await Within(reply)));
        }

        [Fact]
        public async Task ShmSendReceiveAndRequestAsync()
        {
            string name = Name("ashm");
            using var a = ShmChannel.Create(name);
            using var b = ShmChannel.Open(name, 5000);
            await b.SendAsync(B("ring")).WaitAsync(Long);
            Assert.Equal("ring", (await Within(a.ReceiveAsync())).Text);
            a.SetHandler(Upper);
            Assert.Equal("SHM", S(await Within(b.RequestAsync(B("shm"), 0, Long))));
        }

        [Fact]
        public async Task MsgSendAsyncReturnsTheReply()
        {
            string name = Name("amsg");
            using var ep = new MsgEndpoint(name);
            ep.MessageReceived += (s, e) => e.Reply = e.Message.Data.Length + 1;
            Assert.Equal(6, await Within(Msg.SendAsync(name, B("12345"))));
            // (timeout 2 s, not 0: with 0 the async core may time the operation out before it looks the name up)
            await Assert.ThrowsAsync<WipcNotFoundException>(() => Msg.SendAsync(Name("nobody"), B("x"), 0, TimeSpan.FromSeconds(2)));
        }

        [Fact]
        public async Task Timeouts()
        {
            using var pair = new PipePair("atime");
            var (server, client, conn) = (pair.Server, pair.Client, pair.Conn);
            var e = await Assert.ThrowsAsync<WipcTimeoutException>(() => client.ReceiveAsync(TimeSpan.FromMilliseconds(50)));
            Assert.IsAssignableFrom<TimeoutException>(e);
            await Assert.ThrowsAsync<WipcTimeoutException>(() => client.RequestAsync(B("nobody answers"), 0, TimeSpan.FromMilliseconds(100)));
            await Assert.ThrowsAsync<WipcTimeoutException>(() => server.AcceptAsync(TimeSpan.FromMilliseconds(50)));
            await Assert.ThrowsAnyAsync<Exception>(() => Connection.ConnectAsync(Name("nobody"), TimeSpan.FromMilliseconds(100)));
        }

        [Fact]
        public async Task CancellationIsOperationCanceledWithTheToken()
        {
            using var pair = new PipePair("acancel");
            var (server, client, conn) = (pair.Server, pair.Client, pair.Conn);
            using var cts = new CancellationTokenSource();
            var receiving = client.ReceiveAsync(cts.Token);
            var requesting = client.RequestAsync(B("never answered"), 0, null, cts.Token);
            var accepting = server.AcceptAsync(cts.Token);
            await Task.Delay(50);
            Assert.False(receiving.IsCompleted);
            cts.Cancel();
            foreach (var t in new Task[] { receiving, requesting, accepting })
            {
                var e = Assert.IsAssignableFrom<OperationCanceledException>(await Fails(t));
                Assert.Equal(cts.Token, e.CancellationToken);
                Assert.True(t.IsCanceled, "the task is Canceled");
            }
            // an already cancelled token starts nothing
            Assert.True(client.SendAsync(B("x"), 0, cts.Token).IsCanceled);
            // the connection still works after the cancelled operations, and the late request is dropped
            conn.SetHandler(Upper);
            Assert.Equal("STILL", S(await Within(client.RequestAsync(B("still"), 0, Long))));
        }

        /// <summary>Fills a write-behind connection until a Send finds no room for 200 ms (the peer does
        /// not read: its pipe and our queue are full); returns how many messages (int32 0, 1, ...) went.</summary>
        static int FillWriteBehind(Connection client)
        {
            int sent = 0;
            for (; sent < 1000000; sent++)
            {
                try { client.Send(BitConverter.GetBytes(sent), 2, 200); }
                catch (WipcTimeoutException) { break; }
            }
            Assert.InRange(sent, 64, 999999);
            return sent;
        }

        [Fact]
        public async Task FlushAsyncWaitsForTheQueueCancelsAndSeesDispose()
        {
            string name = Name("aflush");
            var o = PipeOptions.Default;
            o.Flags = Library.PipeWriteBehind;
            o.MaxQueuedBytes = 64 * 1024;
            using var server = new PipeServer(name, o);
            var client = Connection.Connect(name, o, 5000);
            using var conn = server.Accept(5000);
            client.Send(B("lone"), 1, 5000);
            Assert.True(client.FlushAsync().IsCompletedSuccessfully);   // written at once: nothing queued
            Assert.Equal("lone", conn.Receive(5000).Text);

            int sent = FillWriteBehind(client);   // the reader waits: queued behind a full pipe
            var flushing = client.FlushAsync();
            await Task.Delay(200);
            Assert.False(flushing.IsCompleted);   // the queue cannot drain while nobody reads
            using (var cts = new CancellationTokenSource())
            {
                var cancelled = client.FlushAsync(cts.Token);
                cts.Cancel();
                var e = Assert.IsAssignableFrom<OperationCanceledException>(await Fails(cancelled));
                Assert.Equal(cts.Token, e.CancellationToken);
            }
            Assert.True(client.FlushAsync(new CancellationToken(true)).IsCanceled);
            for (int i = 0; i < sent; i++)   // in order, none lost: then the flush completes
                Assert.Equal(i, BitConverter.ToInt32(conn.Receive(10000).Data, 0));
            Assert.Same(flushing, await Task.WhenAny(flushing, Task.Delay(TimeSpan.FromSeconds(30))));
            await flushing;

            sent = FillWriteBehind(client);
            flushing = client.FlushAsync();
            await Task.Delay(100);
            client.Dispose();   // the queued messages go with it
            Assert.IsType<WipcClosedException>(await Fails(flushing));
            Assert.IsType<ObjectDisposedException>(Record.Exception(() => { client.FlushAsync(); }));
        }

        [Fact]
        public async Task DisposeWhilePendingIsWipcClosed()
        {
            string name = Name("adispose");
            var server = new PipeServer(name);
            var client = Connection.Connect(name, 5000);
            var conn = server.Accept(5000);
            var receiving = client.ReceiveAsync();
            var requesting = client.RequestAsync(B("x"));
            var accepting = server.AcceptAsync();
            client.Dispose();
            server.Dispose();
            foreach (var t in new Task[] { receiving, requesting, accepting })
            {
                var e = Assert.IsType<WipcClosedException>(await Fails(t));
                Assert.IsAssignableFrom<ObjectDisposedException>(e);
            }
            Assert.IsType<ObjectDisposedException>(Record.Exception(() => { client.ReceiveAsync(); }));   // thrown at the call, not in the task
            conn.Dispose();
        }

        [Fact]
        public async Task PeerKilledWhilePending()
        {
            string name = Name("akill");
            using var peer = Peer.Cli($"listen pipe://{name} --reply none --quiet");
            await using var c = await Within(Connection.ConnectAsync(name, Long));
            var pending = c.RequestAsync(B("never answered"), 0, TimeSpan.FromSeconds(30));
            var receiving = c.ReceiveAsync();
            await Task.Delay(100);
            peer.Kill();
            await Assert.ThrowsAsync<WipcDisconnectedException>(() => Within(pending));
            await Assert.ThrowsAsync<WipcDisconnectedException>(() => Within(receiving));
        }

        [Fact]
        public async Task ReadAllAsyncEndsWhenThePeerLeaves()
        {
            string name = Name("astream");
            using var server = new PipeServer(name);
            var client = Connection.Connect(name, 5000);
            using var conn = server.Accept(5000);
            for (int i = 0; i < 5; i++)
                client.Send($"m{i}");
            client.Dispose();
            var got = new List<string>();
            await foreach (var m in conn.ReadAllAsync())
                got.Add(m.Text);
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"m{i}"), got);
        }

        [Fact]
        public async Task AsyncHandlerAndRemoteErrors()
        {
            string name = Name("ahandler");
            await using var server = new PipeServer(name, async m =>
            {
                await Task.Yield();
                if (m.Text == "fail")
                    throw new InvalidOperationException("the handler failed on purpose");
                if (m.Text == "remote")
                    throw new WipcRemoteException(42, "forty-two");
                return B("ok:" + m.Text);
            });
            await using var c = await Within(Connection.ConnectAsync(name, Long));
            Assert.Equal("ok:x", S(await Within(c.RequestAsync(B("x"), 0, Long))));
            var e = await Assert.ThrowsAsync<WipcRemoteException>(() => Within(c.RequestAsync(B("fail"), 0, Long)));
            Assert.Equal(new InvalidOperationException().HResult, e.Code);
            Assert.Equal("the handler failed on purpose", e.RemoteMessage);
            Assert.Equal(Status.Remote, e.Status);
            var e2 = Assert.Throws<WipcRemoteException>(() => c.Request(B("remote"), 0, 20000));   // blocking form too
            Assert.Equal((42, "forty-two"), (e2.Code, e2.RemoteMessage));
            // ReplyError by hand
            using var s2 = new PipeServer(Name("areplyerr"));
            s2.ClientConnected += (s, a) => a.Connection.MessageReceived += (x, m) => m.Message.ReplyError(-7, "nope");
            using var c2 = Connection.Connect(s2.Name, 5000);
            var e3 = await Assert.ThrowsAsync<WipcRemoteException>(() => Within(c2.RequestAsync(B("?"), 0, Long)));
            Assert.Equal((-7, "nope"), (e3.Code, e3.RemoteMessage));
        }

        [Fact]
        public async Task ThousandConcurrentRequestsOnOneConnection()
        {
            string name = Name("a1000");
            await using var server = new PipeServer(name, m => Task.FromResult(m.Data));
            await using var c = await Within(Connection.ConnectAsync(name, Long));
            var tasks = Enumerable.Range(0, 1000).Select(i => c.RequestAsync(BitConverter.GetBytes(i), (uint)i, TimeSpan.FromSeconds(60))).ToArray();
            var replies = await Within(Task.WhenAll(tasks));
            for (int i = 0; i < 1000; i++)
                Assert.Equal(i, BitConverter.ToInt32(replies[i], 0));
        }

        [Fact]
        public async Task RemoteErrorsWithPythonBothWays()
        {
            // a C# handler that throws reaches a Python ctypes caller as WIPC_E_REMOTE with its code and text
            string name = Name("apy1");
            await using (var server = new PipeServer(name, m => throw new WipcRemoteException(1234, "from C# ü")))
            {
                using var py = Peer.Python($@"
import ctypes, wipc_ctypes as w
lib = w.load()
h = w.handle()
w.check(lib, lib.wipc_pipe_connect(b'{name}', None, 10000, ctypes.byref(h)))
buf = ctypes.create_string_buffer(4096)
got = ctypes.c_size_t()
st = lib.wipc_request(h, 0, b'hi', 2, buf, 4096, ctypes.byref(got), 10000)
print(w.status_name(lib, st), lib.wipc_last_remote_code(), w.last_error(lib))
", null);
                var (code, stdout, stderr) = py.Wait();
                Assert.True(code == 0, stderr);
                Assert.StartsWith("WIPC_E_REMOTE 1234 ", stdout.Trim());
                Assert.Contains("from C# ü", stdout);
            }
            // a Python server's wipc_reply_error reaches C# as WipcRemoteException(Code, RemoteMessage)
            string name2 = Name("apy2");
            using var pyServer = Peer.Python($@"
import ctypes, sys, wipc_ctypes as w
lib = w.load()
s, c = w.handle(), w.handle()
w.check(lib, lib.wipc_pipe_listen(b'{name2}', None, ctypes.byref(s)))
print('listening on {name2}', flush=True)
w.check(lib, lib.wipc_pipe_accept(s, 20000, ctypes.byref(c)))
buf = ctypes.create_string_buffer(4096)
m = w.Message(); m.struct_size = ctypes.sizeof(m)
w.check(lib, lib.wipc_recv_message(c, buf, 4096, ctypes.byref(m), 20000))
w.check(lib, lib.wipc_reply_error(c, m.request_id, -99, 'from Python é'.encode()))
sys.stdin.read()
", "listening on");
            await using var cs = await Within(Connection.ConnectAsync(name2, Long));
            var e = await Assert.ThrowsAsync<WipcRemoteException>(() => Within(cs.RequestAsync(B("q"), 0, Long)));
            Assert.Equal((-99, "from Python é"), (e.Code, e.RemoteMessage));
        }
    }
}
