// WipcPeer.cs - the C# peer of the interop matrix (python-tests/test_interop.py) and the demo's C#
// client. Same command line and protocol as demo/peer_swig.py and demo/peer_ctypes.py:
//
//   WipcPeer.exe serve URI [--until-eof]      serve until killed (--until-eof: until stdin reaches end of
//                                             file, then close the endpoint and exit 0: how demo/interop.py
//                                             stops it, as mono leaves SIGTERM unhandled); prints
//                                             "listening on URI (pid N)"
//   WipcPeer.exe client URI COUNT [SIZE]      COUNT checked request/replies of SIZE bytes (default 64),
//                                             then "COUNT requests of SIZE bytes: round trip p50 X us, p99 Y us"
//   WipcPeer.exe client-async URI COUNT [SIZE] the same with `await RequestAsync` (pipe, shm) /
//                                             `await Msg.SendAsync` (msg), one at a time
//   WipcPeer.exe send URI TEXT                one plain message (msg: prints the receiver's reply)
//   WipcPeer.exe broadcast msg://PREFIX TEXT  prints "delivered to N receiver(s)"
//
// Protocol: a pipe/shm request is answered with its bytes ASCII upper-cased (same type); a msg message
// with the sum of its bytes (& 0x7fffffff). Exit status 0 = every exchange checked out.
using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using Wipc;

static class WipcPeer
{
    const int TimeoutMs = 10000;

    static byte[] Upper(byte[] data)
    {
        var r = (byte[])data.Clone();
        for (int i = 0; i < r.Length; i++)
            if (r[i] >= (byte)'a' && r[i] <= (byte)'z')
                r[i] -= 32;
        return r;
    }

    static int ByteSum(byte[] data)
    {
        uint sum = 0;
        foreach (var b in data)
            sum += b;
        return (int)(sum & 0x7fffffff);
    }

    static byte[] Payload(int i, int size)
    {
        var text = string.Format("csharp request {0} ", i).PadRight(size, 'x');
        return Encoding.ASCII.GetBytes(text.Substring(0, size));
    }

    static int Serve(string scheme, string name, bool untilEof)
    {
        MessageCallback answer = m =>
        {
            if (m.IsRequest)
                m.Reply(Upper(m.Data));
            return ByteSum(m.Data);
        };
        WipcObject endpoint;
        if (scheme == "pipe")
            endpoint = new PipeServer(name, answer);
        else if (scheme == "shm")
        {
            var ch = ShmChannel.Create(name);
            ch.SetCallbacks(answer);
            endpoint = ch;
        }
        else
            endpoint = new MsgEndpoint(name, answer);
        Console.WriteLine("listening on {0}://{1} (pid {2})", scheme, name, Process.GetCurrentProcess().Id);
        Console.Out.Flush();
        if (!untilEof)
        {
            GC.KeepAlive(endpoint);
            Thread.Sleep(Timeout.Infinite);
        }
        while (Console.In.Read() != -1)
        {
        }
        endpoint.Dispose();   // the socket file / shm object goes with it
        return 0;
    }

    static int Client(string scheme, string name, int count, int size, bool useAsync = false)
    {
        var rtt = new double[count];
        var clock = Stopwatch.StartNew();
        MessageChannel channel = scheme == "pipe" ? (MessageChannel)Connection.Connect(name, TimeoutMs)
                               : scheme == "shm" ? ShmChannel.Open(name, TimeoutMs) : null;
        using (channel)
        {
            for (int i = 0; i < count; i++)
            {
                var data = Payload(i, size);
                double t0 = clock.Elapsed.TotalMilliseconds;
                bool ok;
                if (useAsync)
                    ok = channel != null ? Same(channel.RequestAsync(data, 1, TimeSpan.FromMilliseconds(TimeoutMs)).GetAwaiter().GetResult(), Upper(data))
                                         : Msg.SendAsync(name, data, 1, TimeSpan.FromMilliseconds(TimeoutMs)).GetAwaiter().GetResult() == ByteSum(data);
                else
                    ok = channel != null ? Same(channel.Request(data, 1, TimeoutMs), Upper(data))
                                         : Msg.Send(name, data, 1, TimeoutMs) == ByteSum(data);
                rtt[i] = (clock.Elapsed.TotalMilliseconds - t0) * 1000.0;
                if (!ok)
                {
                    Console.Error.WriteLine("WipcPeer: reply {0} on {1}://{2} is wrong", i, scheme, name);
                    return 1;
                }
            }
        }
        Array.Sort(rtt);
        Console.WriteLine("{0} requests of {1} bytes: round trip p50 {2:F1} us, p99 {3:F1} us",
                          count, size, rtt[count / 2], rtt[count * 99 / 100]);
        return 0;
    }

    static bool Same(byte[] a, byte[] b)
    {
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }

    static int Send(string scheme, string name, string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        if (scheme == "msg")
        {
            Console.WriteLine(Msg.Send(name, data, 0, TimeoutMs));
            return 0;
        }
        using (var ch = scheme == "pipe" ? (MessageChannel)Connection.Connect(name, TimeoutMs) : ShmChannel.Open(name, TimeoutMs))
            ch.Send(data, 0, TimeoutMs);
        return 0;
    }

    static int Main(string[] args)
    {
        int sep = args.Length > 1 ? args[1].IndexOf("://", StringComparison.Ordinal) : -1;
        if (sep < 0)
        {
            Console.Error.WriteLine("usage: WipcPeer.exe serve|client|client-async|send|broadcast URI [--until-eof | COUNT [SIZE] | TEXT]");
            return 2;
        }
        string scheme = args[1].Substring(0, sep), name = args[1].Substring(sep + 3);
        try
        {
            switch (args[0])
            {
                case "serve": return Serve(scheme, name, args.Length > 2 && args[2] == "--until-eof");
                case "client": return Client(scheme, name, int.Parse(args[2]), args.Length > 3 ? int.Parse(args[3]) : 64);
                case "client-async": return Client(scheme, name, int.Parse(args[2]), args.Length > 3 ? int.Parse(args[3]) : 64, true);
                case "send": return Send(scheme, name, args[2]);
                case "broadcast":
                    uint n = Msg.Broadcast(name, Encoding.UTF8.GetBytes(args[2]), 0, TimeoutMs);
                    Console.WriteLine("delivered to {0} receiver{1}", n, n == 1 ? "" : "s");
                    return 0;
            }
        }
        catch (Exception e) when (e is IWipcError)
        {
            Console.Error.WriteLine("WipcPeer: {0}", e.Message);
            return 1;
        }
        Console.Error.WriteLine("WipcPeer: unknown command {0}", args[0]);
        return 2;
    }
}
