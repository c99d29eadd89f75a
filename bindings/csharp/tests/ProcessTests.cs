// ProcessTests.cs - the binding against peers in other processes: the .NET WipcPeer and the C CLI,
// killed mid-conversation.
using System;
using System.Threading;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class ProcessTests
    {
        [Theory]
        [InlineData("pipe")]
        [InlineData("shm")]
        public void PeerKilledMidConversation(string scheme)
        {
            string name = Name("kill" + scheme);
            using var peer = Peer.DotNet($"serve {scheme}://{name} --until-eof");
            using MessageChannel ch = scheme == "pipe" ? Connection.Connect(name, 10000) : ShmChannel.Open(name, 10000);
            Assert.Equal("HELLO", S(ch.Request(B("hello"), 1, 10000)));
            var gone = new ManualResetEventSlim();
            if (scheme == "pipe")
                ch.Disconnected += (s, e) => gone.Set();
            peer.Kill();
            var e = Record.Exception(() => ch.Request(B("again"), 1, 10000));
            Assert.True(e is WipcDisconnectedException || e is WipcTimeoutException || e is InvalidOperationException,
                        $"{e?.GetType().Name}: {e?.Message}");
            if (scheme == "pipe")
                Assert.True(gone.Wait(10000), "Disconnected event after the peer was killed");
        }

        [Fact]
        public void TalksToTheCCli()
        {
            string name = Name("cli");
            using var cli = Peer.Cli($"listen pipe://{name} --reply upper --quiet");
            using var c = Connection.Connect(name, 10000);
            for (int i = 0; i < 20; i++)
                Assert.Equal($"REQUEST {i}", S(c.Request(B($"request {i}"), 0, 10000)));
            using var msg = new MsgEndpoint(Name("climsg"));
            msg.MessageReceived += (s, e) => e.Reply = 77;
            using var sender = Peer.Cli($"send msg://{msg.Name} hi", null);
            var (code, stdout, stderr) = sender.Wait();
            Assert.True(code == 0, stderr);
            Assert.Equal("77", stdout.Trim());
        }

        [Fact]
        public void DotNetPeerClientAgainstThisProcess()
        {
            string name = Name("srv");
            using var server = new PipeServer(name, m => { if (m.IsRequest) m.Reply(B(m.Text.ToUpperInvariant())); return 0; });
            using var client = Peer.DotNet($"client pipe://{name} 50 64", null);
            var (code, stdout, stderr) = client.Wait();
            Assert.True(code == 0, stderr);
            Assert.Contains("50 requests of 64 bytes", stdout);
        }
    }
}
