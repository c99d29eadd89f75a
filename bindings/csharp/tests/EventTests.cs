// EventTests.cs - the .NET events: ClientConnected, MessageReceived (connection, server, shm channel,
// msg endpoint), Disconnected; subscribing and unsubscribing while messages flow; handler exceptions.
using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class EventTests
    {
        [Fact]
        public void ServerEventsAnswerRequests()
        {
            string name = Name("ev");
            var connected = new ConcurrentQueue<Connection>();
            var disconnected = new ConcurrentQueue<Status>();
            var serverSeen = new ConcurrentQueue<string>();
            using var server = new PipeServer(name);
            server.ClientConnected += (s, e) =>
            {
                Assert.Same(server, s);
                Assert.Same(server, e.Connection.Server);
                connected.Enqueue(e.Connection);
                e.Connection.MessageReceived += (c, m) => m.Message.Reply(B(m.Message.Text.ToUpperInvariant()));
                e.Connection.Disconnected += (c, d) => disconnected.Enqueue(d.Status);
            };
            server.MessageReceived += (s, e) => serverSeen.Enqueue(e.Message.Text);
            using (var client = Connection.Connect(name, 5000))
            {
                Assert.Equal("HELLO", S(client.Request(B("hello"), 1, 5000)));
                WaitFor(() => connected.Count == 1, "ClientConnected");
                Assert.Single(server.Connections);
                WaitFor(() => serverSeen.Count == 1, "server MessageReceived");
            }
            WaitFor(() => disconnected.Count == 1, "Disconnected");
            Assert.Equal(Status.Disconnected, disconnected.Single());
            WaitFor(() => server.Connections.Length == 0, "the connection disposed by the server");
            Assert.True(connected.Single().IsClosed);
        }

        [Fact]
        public void SubscribeAndUnsubscribeAtAnyTime()
        {
            using var pair = new PipePair("sub");
            var (server, client, conn) = (pair.Server, pair.Client, pair.Conn);
            var a = new ConcurrentQueue<string>();
            var b = new ConcurrentQueue<string>();
            EventHandler<MessageReceivedEventArgs> ha = (s, e) => a.Enqueue(e.Message.Text);
            EventHandler<MessageReceivedEventArgs> hb = (s, e) => b.Enqueue(e.Message.Text);
            conn.MessageReceived += ha;
            client.Send("1");
            WaitFor(() => a.Count == 1, "handler a");
            conn.MessageReceived += hb;
            client.Send("2");
            WaitFor(() => a.Count == 2 && b.Count == 1, "handlers a and b");
            conn.MessageReceived -= ha;
            client.Send("3");
            WaitFor(() => b.Count == 2, "handler b");
            Assert.Equal(new[] { "1", "2" }, a.ToArray());
            Assert.Equal(new[] { "2", "3" }, b.ToArray());
            conn.MessageReceived -= hb;
            conn.MessageReceived -= hb;   // removing twice is harmless
        }

        [Fact]
        public void ShmChannelEventsAndLegacyCallbacks()
        {
            string name = Name("shmev");
            using var creator = ShmChannel.Create(name);
            var gone = new ManualResetEventSlim();
            var legacy = new ConcurrentQueue<WipcEvent>();
            creator.SetCallbacks(m => { m.Reply(m.Data); return 0; }, (src, ev, rel, st) => legacy.Enqueue(ev));
            creator.Disconnected += (s, e) => gone.Set();
            using (var opener = ShmChannel.Open(name, 5000))
                Assert.Equal("echo", S(opener.Request(B("echo"), 0, 5000)));
            Assert.True(gone.Wait(10000), "Disconnected after the opener left");
            Assert.Contains(WipcEvent.Disconnected, legacy);
        }

        [Fact]
        public void MsgEndpointEventSetsTheReply()
        {
            string name = Name("msgev");
            using var ep = new MsgEndpoint(name);
            ep.MessageReceived += (s, e) => e.Reply = e.Message.Data.Length * 10;
            Assert.Equal(30, Msg.Send(name, B("abc")));
        }

        [Fact]
        public void MsgRawEndpointTakesRawSends()
        {
            // A WIPC_MSG_RAW receiver, reached by a raw send (no wipc header) to
            // "class:wipc-msg-NAME" (its window class on Windows, its socket on Linux): the reply is the
            // plain return value, negative ones included; wipc's own senders still reach it by name.
            string name = Name("msgraw");
            var o = MsgOptions.Default;
            o.Flags = Library.MsgRaw;
            using var ep = new MsgEndpoint(name, o);
            ep.MessageReceived += (s, e) => e.Reply = -e.Message.Data.Length;
            Assert.Equal(-4, Msg.Send("class:wipc-msg-" + name, B("abcd"), 3));
            Assert.Equal(-2, Msg.Send(name, B("ab")));
        }

        [Fact]
        public void HandlerExceptionsReachCallbackExceptionAndOthersStillRun()
        {
            string name = Name("throw");
            var reported = new ConcurrentQueue<Exception>();
            Action<Exception> report = e => reported.Enqueue(e);
            Library.CallbackException += report;
            try
            {
                using var ep = new MsgEndpoint(name);
                ep.MessageReceived += (s, e) => throw new InvalidTimeZoneException("boom");
                ep.MessageReceived += (s, e) => e.Reply = 5;
                Assert.Equal(5, Msg.Send(name, B("x")));
                WaitFor(() => !reported.IsEmpty, "the reported exception");
                Assert.Contains(reported, e => e is InvalidTimeZoneException);
            }
            finally { Library.CallbackException -= report; }
        }
    }
}
