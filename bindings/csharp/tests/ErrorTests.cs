// ErrorTests.cs - each failure surfaces as the .NET exception type callers catch, with the wipc
// status on it (IWipcError), and bad arguments are refused before anything is sent.
using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class ErrorTests
    {
        static void IsWipc(Exception e, Status status)
        {
            var w = Assert.IsAssignableFrom<IWipcError>(e);
            Assert.Equal(status, w.Status);
            Assert.Equal(Library.StatusName(status), w.StatusName);
            Assert.False(string.IsNullOrEmpty(e.Message));
        }

        [Fact]
        public void TimeoutIsATimeoutExceptionNotAnIOException()
        {
            string name = Name("timeout");
            using var server = new PipeServer(name);
            using var client = Connection.Connect(name, 5000);
            var e = Assert.Throws<WipcTimeoutException>(() => client.Receive(50));
            Assert.IsAssignableFrom<TimeoutException>(e);
            Assert.False(typeof(IOException).IsAssignableFrom(e.GetType()));
            IsWipc(e, Status.Timeout);
        }

        [Fact]
        public void NotFoundIsAFileNotFoundException()
        {
            var e = Assert.Throws<WipcNotFoundException>(() => Connection.Connect(Name("absent"), 0));
            Assert.IsAssignableFrom<FileNotFoundException>(e);
            Assert.IsAssignableFrom<IOException>(e);
            IsWipc(e, Status.NotFound);
            Assert.Contains("absent", ((IWipcError)e).LastError);
            IsWipc(Assert.Throws<WipcNotFoundException>(() => Region.Open(Name("absent"))), Status.NotFound);
            IsWipc(Assert.Throws<WipcNotFoundException>(() => Msg.Send(Name("absent"), B("x"), 0, 0)), Status.NotFound);
        }

        [Fact]
        public void BadArgumentsAreArgumentExceptions()
        {
            var e = Assert.Throws<WipcInvalidArgException>(() => new PipeServer("bad name/with slash"));
            Assert.IsAssignableFrom<ArgumentException>(e);
            IsWipc(e, Status.InvalidArg);
            var o = PipeOptions.Default;
            o.Flags = 0x80000000;
            Assert.Throws<WipcInvalidArgException>(() => new PipeServer(Name("flags"), o));
            Assert.Throws<ArgumentNullException>(() => new PipeServer(null!));
            Assert.Throws<ArgumentNullException>(() => Connection.Connect(null!));
            Assert.Throws<ArgumentNullException>(() => ShmChannel.Create(null!));
            Assert.Throws<ArgumentNullException>(() => Region.Open(null!));
            Assert.Throws<ArgumentNullException>(() => Msg.Send(null!, B("x")));
            Assert.Throws<ArgumentNullException>(() => Msg.Send("x", (byte[])null!));
            Assert.Throws<ArgumentNullException>(() => Msg.Broadcast("x", (byte[])null!));
            Assert.Throws<ArgumentOutOfRangeException>(() => Connection.Connect(Name("t"), -2));
        }

        [Fact]
        public void SendNullThrowsAndSendsNothing()
        {
            using var pair = new PipePair("null");
            var (server, client, conn) = (pair.Server, pair.Client, pair.Conn);
            Assert.Throws<ArgumentNullException>(() => client.Send((byte[])null!));
            Assert.Throws<ArgumentNullException>(() => client.Send((string)null!));
            Assert.Throws<ArgumentNullException>(() => client.Request((byte[])null!));
            Assert.Throws<ArgumentNullException>(() => conn.Reply(1, (byte[])null!));
            Assert.Throws<ArgumentOutOfRangeException>(() => conn.Reply(0, B("x")));
            Assert.Throws<WipcTimeoutException>(() => conn.Receive(100));   // nothing arrived
            client.Send(B("after"));
            Assert.Equal("after", conn.Receive(5000).Text);
        }

        [Fact]
        public void ReplyToANonRequestIsInvalidOperation()
        {
            using var pair = new PipePair("noreq");
            var (server, client, conn) = (pair.Server, pair.Client, pair.Conn);
            client.Send(B("plain"));
            var m = conn.Receive(5000);
            Assert.False(m.IsRequest);
            Assert.Throws<InvalidOperationException>(() => m.Reply(B("x")));
            Assert.Throws<InvalidOperationException>(() => m.Reply("x"));
        }

        [Fact]
        public void UseAfterDisposeIsObjectDisposed()
        {
            string name = Name("disposed");
            var server = new PipeServer(name);
            var client = Connection.Connect(name, 5000);
            client.Dispose();
            client.Dispose();   // a second time does nothing
            Assert.True(client.IsClosed);
            Assert.Contains("closed", client.ToString());
            Assert.Throws<ObjectDisposedException>(() => client.Send(B("x")));
            Assert.Throws<ObjectDisposedException>(() => client.Receive(0));
            Assert.Throws<ObjectDisposedException>(() => client.Request(B("x")));
            Assert.Throws<ObjectDisposedException>(() => client.GetInfo());
            Assert.Throws<ObjectDisposedException>(() => client.MessageReceived += (s, e) => { });
            server.Close();
            Assert.Throws<ObjectDisposedException>(() => server.Accept(0));
            var r = Region.Create(Name("r"), 64);
            r.DisposeAsync().AsTask().Wait();
            Assert.Throws<ObjectDisposedException>(() => r.Read(0, 1));
        }

        [Fact]
        public void DisposeWhileBlockedIsWipcClosed()
        {
            string name = Name("closing");
            using var server = new PipeServer(name);
            var client = Connection.Connect(name, 5000);
            var started = new ManualResetEventSlim();
            var blocked = Task.Factory.StartNew(() => { started.Set(); return client.Receive(Library.Infinite); },
                                                TaskCreationOptions.LongRunning);
            Assert.True(started.Wait(10000));
            Thread.Sleep(300);   // inside wipc_recv_message by now
            client.Dispose();
            var e = Assert.Throws<AggregateException>(() => blocked.Wait(10000)).InnerException!;
            Assert.IsType<WipcClosedException>(e);
            Assert.IsAssignableFrom<ObjectDisposedException>(e);
            IsWipc(e, Status.Closed);
        }

        [Fact]
        public void PeerGoneIsDisconnectedIOException()
        {
            string name = Name("gone");
            using var server = new PipeServer(name);
            using var client = Connection.Connect(name, 5000);
            server.Accept(5000).Dispose();
            var e = Assert.Throws<WipcDisconnectedException>(() => client.Receive(5000));
            Assert.IsAssignableFrom<WipcException>(e);
            Assert.IsAssignableFrom<IOException>(e);
            IsWipc(e, Status.Disconnected);
        }

        [Fact]
        public void NameInUseAndCallbackModeErrors()
        {
            string name = Name("inuse");
            using var server = new PipeServer(name);
            IsWipc(Assert.Throws<WipcAddrInUseException>(() => new PipeServer(name)), Status.AddrInUse);
            server.ClientConnected += (s, e) => { };
            var e = Assert.Throws<WipcInvalidStateException>(() => server.Accept(0));
            Assert.IsAssignableFrom<InvalidOperationException>(e);
            using var client = Connection.Connect(name, 5000);
            client.MessageReceived += (s, a) => { };
            Assert.Throws<WipcInvalidStateException>(() => client.Receive(0));
            Assert.Throws<InvalidOperationException>(() => client.SetCallbacks(m => 0));
            Assert.Throws<ArgumentNullException>(() => client.SetCallbacks(null));
        }

        [Fact]
        public void RemoteErrorTextIsParsed()
        {
            // WIPC_E_REMOTE's message is "remote error CODE: TEXT" (wipc.h)
            var e = WipcException.Create((int)Status.Remote, "remote error -42: it broke: badly", 0);
            var r = Assert.IsType<WipcRemoteException>(e);
            Assert.Equal(-42, r.Code);
            Assert.Equal("it broke: badly", r.RemoteMessage);
            Assert.IsAssignableFrom<IOException>(r);
        }
    }
}
