// WipcTest.cs - the C# binding's test program (mcs + mono; run by scripts/test-bindings):
//   mono build/linux/bindings/csharp/WipcTest.exe [TEST...]
// Each test runs with a time limit; prints PASS/FAIL per test, exits 1 if any failed.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;
using Wipc;

static class WipcTest
{
    static int counter;

    static string Name(string tag)
    {
        return string.Format("cs-{0}-{1}-{2}", Process.GetCurrentProcess().Id, Interlocked.Increment(ref counter), tag);
    }

    static void Assert(bool ok, string what)
    {
        if (!ok)
            throw new Exception("assertion failed: " + what);
    }

    static T Throws<T>(Action action, string what) where T : WipcException
    {
        try { action(); }
        catch (T e) { return e; }
        catch (Exception e) { throw new Exception(what + ": expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message); }
        throw new Exception(what + ": expected " + typeof(T).Name + ", nothing was thrown");
    }

    static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }
    static string S(byte[] b) { return Encoding.UTF8.GetString(b); }

    static MessageCallback Upper = m =>
    {
        if (m.IsRequest)
            m.Reply(B(m.Text.ToUpperInvariant()));
        return 0;
    };

    // ---- tests --------------------------------------------------------------------------------------

    static void Version()
    {
        Assert(Library.Version == "1.1.0", "version string " + Library.Version);
        Assert(Library.VersionNumber >> 16 == 1, "major 1");
        Assert(Library.StatusName(Status.Timeout) == "WIPC_E_TIMEOUT", "status name");
    }

    static void PipeCallbacksAndRequest()
    {
        string name = Name("pipe");
        var events = new List<WipcEvent>();
        using (var server = new PipeServer(name, Upper, (src, ev, rel, st) => { lock (events) events.Add(ev); }))
        using (var c = Connection.Connect(name, 5000))
        {
            Assert(S(c.Request(B("hello"), 7, 5000)) == "HELLO", "reply upper-cased");
            var big = new byte[1 << 20];
            for (int i = 0; i < big.Length; i++) big[i] = (byte)'a';
            Assert(c.Request(big, 1, 10000).Length == big.Length, "1 MiB reply");
            Assert(c.PeerPid == (uint)Process.GetCurrentProcess().Id, "peer pid");
            Assert(server.Connections.Length == 1, "the server tracks its connection");
        }
        lock (events) Assert(events.Contains(WipcEvent.Connected), "Connected event");
    }

    static void PipeAcceptSendReceive()
    {
        string name = Name("accept");
        using (var server = new PipeServer(name))
        using (var c = Connection.Connect(name, 5000))
        using (var s = server.Accept(5000))
        {
            c.Send("ping", 42, 5000);
            var m = s.Receive(5000);
            Assert(m.Type == 42 && m.Text == "ping" && !m.IsRequest, "message kept type and bytes");
            var info = c.GetInfo();
            Assert(info.Transport == 1 && info.MessagesSent == 1 && info.Name == name, "info " + info.Name);
            Throws<WipcTimeoutException>(() => s.Receive(50), "receive with nothing queued");
        }
    }

    static void Exceptions()
    {
        var e = Throws<WipcNotFoundException>(() => Connection.Connect(Name("missing"), 100), "connect to nothing");
        Assert(e.Status == Status.NotFound && e.StatusName == "WIPC_E_NOT_FOUND", "status " + e.StatusName);
        Assert(e.LastError.Contains("wipc_pipe_connect"), "last error names the call: " + e.LastError);
        Assert(e.OsError == 2, "OS error ENOENT, got " + e.OsError);
        Throws<WipcInvalidArgException>(() => new PipeServer("bad name!"), "bad name");
        string name = Name("dup");
        using (new PipeServer(name))
            Throws<WipcAddrInUseException>(() => new PipeServer(name), "second server on a name");
    }

    static void DisposeSemantics()
    {
        string name = Name("dispose");
        var server = new PipeServer(name);
        var c = Connection.Connect(name, 5000);
        c.Dispose();
        c.Dispose();   // twice is fine
        Assert(c.IsClosed, "IsClosed");
        Throws<WipcBadHandleException>(() => c.Send(B("x")), "send after Dispose");
        server.Close();
        Throws<WipcNotFoundException>(() => Connection.Connect(name, 100), "the name is free after Dispose");
    }

    static void DisposeCancelsBlockedReceive()
    {
        string name = Name("cancel");
        using (var server = new PipeServer(name))
        using (var c = Connection.Connect(name, 5000))
        {
            var closer = new Thread(() => { Thread.Sleep(200); c.Dispose(); });
            closer.Start();
            var sw = Stopwatch.StartNew();
            Throws<WipcClosedException>(() => c.Receive(), "blocked Receive, then Dispose from another thread");
            Assert(sw.ElapsedMilliseconds < 3000, "cancelled promptly");
            closer.Join();
        }
    }

    static void CallbackExceptionIsReported()
    {
        string name = Name("throw");
        Exception seen = null;
        var done = new ManualResetEvent(false);
        Action<Exception> handler = e => { seen = e; done.Set(); };
        Library.CallbackException += handler;
        try
        {
            using (new PipeServer(name, m => { throw new InvalidOperationException("boom"); }))
            using (var c = Connection.Connect(name, 5000))
            {
                c.Send(B("x"), 0, 5000);
                Assert(done.WaitOne(5000), "the exception reached Library.CallbackException");
                Assert(seen is InvalidOperationException && seen.Message == "boom", "the callback's exception");
                Throws<WipcTimeoutException>(() => c.Request(B("y"), 0, 200), "no reply from a throwing callback");
            }
        }
        finally { Library.CallbackException -= handler; }
    }

    static void DelegatesOutliveGarbageCollection()
    {
        string name = Name("gc");
        CreateUnreferencedServer(name);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        using (var c = Connection.Connect(name, 5000))
            Assert(S(c.Request(B("still here"), 0, 5000)) == "STILL HERE", "a server with callbacks is kept alive");
    }

    static void CreateUnreferencedServer(string name)
    {
        new PipeServer(name, m => { m.Reply(B(m.Text.ToUpperInvariant())); return 0; });
    }

    static void Shm()
    {
        string name = Name("shm");
        var options = ShmOptions.Default;
        options.Capacity = 1 << 16;
        using (var creator = ShmChannel.Create(name, options))
        using (var opener = ShmChannel.Open(name, 5000))
        {
            opener.SetCallbacks(Upper);
            Assert(S(creator.Request(B("shared"), 3, 5000)) == "SHARED", "shm request/reply");
            opener.Send(B("x"), 0, 5000);   // the opener may still send from outside its callbacks
            Assert(creator.Receive(5000).Text == "x", "shm message");
            Assert(creator.PeerPid == (uint)Process.GetCurrentProcess().Id, "shm peer pid");
        }
    }

    static void MsgTransport()
    {
        string name = Name("msg");
        using (new MsgEndpoint(name, m => m.Data.Length * 2))
        {
            Assert(Msg.Send(name, B("12345")) == 10, "the callback's return value is the reply");
            Assert(Array.IndexOf(Msg.List("cs-"), name) >= 0, "List finds the receiver");
            Assert(Msg.Broadcast(name, B("all")) == 1, "broadcast reaches it");
        }
        Throws<WipcNotFoundException>(() => Msg.Send(name, B("x"), 0, 200), "send after the receiver closed");
        using (var queue = new MsgEndpoint(name))
        {
            Msg.Send(name, B("queued"), 9);
            var m = queue.Receive(5000);
            Assert(m.Type == 9 && m.Text == "queued", "queue mode");
        }
    }

    static void RegionReadWrite()
    {
        string name = Name("region");
        using (var r = Region.Create(name, 4096))
        using (var ro = Region.Open(name, true))
        {
            r.Write(100, B("hello"));
            Assert(S(ro.Read(100, 5)) == "hello" && ro.Size == 4096, "shared bytes");
            Throws<WipcAccessDeniedException>(() => ro.Write(0, B("x")), "write to a read-only region");
        }
    }

    // ---- runner -------------------------------------------------------------------------------------

    static int Main(string[] args)
    {
        var tests = new Dictionary<string, Action>
        {
            { "Version", Version }, { "PipeCallbacksAndRequest", PipeCallbacksAndRequest },
            { "PipeAcceptSendReceive", PipeAcceptSendReceive }, { "Exceptions", Exceptions },
            { "DisposeSemantics", DisposeSemantics }, { "DisposeCancelsBlockedReceive", DisposeCancelsBlockedReceive },
            { "CallbackExceptionIsReported", CallbackExceptionIsReported },
            { "DelegatesOutliveGarbageCollection", DelegatesOutliveGarbageCollection },
            { "Shm", Shm }, { "Msg", MsgTransport }, { "RegionReadWrite", RegionReadWrite },
        };
        int failed = 0, run = 0;
        foreach (var t in tests)
        {
            if (args.Length > 0 && Array.IndexOf(args, t.Key) < 0)
                continue;
            run++;
            Exception error = null;
            var thread = new Thread(() => { try { t.Value(); } catch (Exception e) { error = e; } });
            thread.IsBackground = true;
            var sw = Stopwatch.StartNew();
            thread.Start();
            if (!thread.Join(60000))
                error = new TimeoutException("still running after 60 s");
            Console.WriteLine("{0}  {1} ({2} ms){3}", error == null ? "PASS" : "FAIL", t.Key, sw.ElapsedMilliseconds,
                              error == null ? "" : "\n      " + error.Message);
            if (error != null)
                failed++;
        }
        Console.WriteLine("WipcTest: {0} of {1} tests passed (wipc {2})", run - failed, run, Library.Version);
        return failed == 0 && run > 0 ? 0 : 1;
    }
}
