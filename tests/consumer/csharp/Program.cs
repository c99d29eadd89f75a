// Program.cs - the .NET consumer of the Wipc NuGet package (Consumer.csproj). Runs, in one process:
// pipe, shm and msg round trips with events and exceptions, async/await with cancellation and a remote
// error; on Windows also interop with .NET's own
// NamedPipeServerStream / NamedPipeClientStream (message mode, against WIPC_PIPE_RAW) and
// MemoryMappedFile.OpenExisting on a wipc region. Prints one line per check, "consumer: OK" and exits 0
// when all passed; "consumer: FAILED ..." and exit 1 otherwise.
using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Wipc;

static class Consumer
{
    static readonly string Id = $"consumer-dn-{Environment.ProcessId}";
    static int checks;

    static void Check(bool ok, string what)
    {
        if (!ok)
            throw new Exception("check failed: " + what);
        checks++;
    }

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
    static string S(byte[] b) => Encoding.UTF8.GetString(b);

    static void Pipe()
    {
        using var server = new PipeServer(Id + "-pipe");
        using var connected = new ManualResetEventSlim();
        server.ClientConnected += (s, e) =>
        {
            connected.Set();
            e.Connection.MessageReceived += (c, m) => m.Message.Reply(B("pong:" + m.Message.Text), 8);
        };
        using var client = Connection.Connect(server.Name, 10000);
        string reply = S(client.Request(B("ping"), 7, 10000));
        Check(reply == "pong:ping", "pipe reply " + reply);
        Check(connected.Wait(10000), "ClientConnected raised");
        Console.WriteLine($"consumer: pipe request 'ping' -> '{reply}'");
    }

    static void Shm()
    {
        using var a = ShmChannel.Create(Id + "-shm");
        a.MessageReceived += (s, m) => m.Message.Reply(m.Message.Data);
        using var b = ShmChannel.Open(Id + "-shm", 10000);
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        var back = b.Request(data, 3, 10000);
        Check(back.AsSpan().SequenceEqual(data), "shm echo of 100000 bytes");
        Console.WriteLine($"consumer: shm request of {data.Length} bytes echoed");
    }

    static void MsgTransport()
    {
        using var ep = new MsgEndpoint(Id + "-msg");
        ep.MessageReceived += (s, e) => e.Reply = e.Message.Data.Length;
        int r = Msg.Send(ep.Name, B("four"), 0, 10000);
        Check(r == 4, "msg reply " + r);
        Console.WriteLine($"consumer: msg send 'four' -> reply {r}");
    }

    static void Errors()
    {
        try { Connection.Connect(Id + "-nobody", 0); Check(false, "connect to nobody"); }
        catch (FileNotFoundException e) { Check(e is IWipcError { Status: Status.NotFound }, "NotFound status"); }
        using var server = new PipeServer(Id + "-err");
        using var c = Connection.Connect(server.Name, 10000);
        try { c.Receive(50); Check(false, "receive timeout"); }
        catch (TimeoutException e) { Check(e is IWipcError, "TimeoutException is an IWipcError"); }
        try { c.Send((byte[])null!); Check(false, "send null"); }
        catch (ArgumentNullException) { checks++; }
        Console.WriteLine("consumer: FileNotFoundException, TimeoutException, ArgumentNullException as expected");
    }

    // async/await (1.1): a handler server, RequestAsync, a cancelled ReceiveAsync, a remote error,
    // shm SendAsync/ReceiveAsync, Msg.SendAsync.
    static async Task AsyncAndCancel()
    {
        var ten = TimeSpan.FromSeconds(10);
        await using var server = new PipeServer(Id + "-async", m =>
            m.Text == "fail" ? throw new WipcRemoteException(7, "failed on purpose") : Task.FromResult(B("async:" + m.Text)));
        await using var c = await Connection.ConnectAsync(server.Name, ten);
        string r = S(await c.RequestAsync(B("ping"), 0, ten));
        Check(r == "async:ping", "RequestAsync reply " + r);
        try { await c.RequestAsync(B("fail"), 0, ten); Check(false, "remote error"); }
        catch (WipcRemoteException e) { Check(e.Code == 7 && e.RemoteMessage == "failed on purpose", "remote error " + e.Message); }
        using var cts = new CancellationTokenSource();
        var pending = c.ReceiveAsync(cts.Token);
        cts.CancelAfter(50);
        try { await pending.WaitAsync(ten); Check(false, "cancelled ReceiveAsync"); }
        catch (OperationCanceledException e) { Check(e.CancellationToken == cts.Token, "cancelled with the token"); }
        using (var a = ShmChannel.Create(Id + "-ashm"))
        using (var b = ShmChannel.Open(a.GetInfo().Name, 10000))
        {
            var got = a.ReceiveAsync(ten);
            await b.SendAsync(B("shm async")).WaitAsync(ten);
            Check((await got).Text == "shm async", "shm ReceiveAsync");
        }
        using (var ep = new MsgEndpoint(Id + "-amsg"))
        {
            ep.MessageReceived += (s, e) => e.Reply = 99;
            Check(await Msg.SendAsync(ep.Name, B("m"), 0, ten) == 99, "Msg.SendAsync reply");
        }
        Console.WriteLine("consumer: async: RequestAsync, remote error, cancelled ReceiveAsync, shm SendAsync/ReceiveAsync, Msg.SendAsync");
    }

    // Waits up to 10 s for a .NET stream read (a hang becomes a failed check, not a stuck test).
    static int Read(Stream s, byte[] buf, string what)
    {
        var t = s.ReadAsync(buf, 0, buf.Length);
        Check(t.Wait(10000), what + ": the read completed within 10 s");
        return t.Result;
    }

    // .NET's own pipe client against a wipc WIPC_PIPE_RAW server, and a wipc raw client against .NET's
    // own pipe server, both in message mode (Windows named pipes). The .NET ends are opened
    // asynchronous and read with a time limit; the server stream gets explicit 64 KiB buffers (with
    // the default 0, Wine's named pipes make a write wait for the reader).
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    static void DotNetPipes()
    {
        var raw = Wipc.PipeOptions.Default;
        raw.Flags = Library.PipeRaw;
        using (var server = new PipeServer(Id + "-raw", raw))
        using (var client = new NamedPipeClientStream(".", "wipc-" + server.Name, PipeDirection.InOut,
                                                             System.IO.Pipes.PipeOptions.Asynchronous))
        {
            client.Connect(10000);
            client.ReadMode = PipeTransmissionMode.Message;
            using var conn = server.Accept(10000);
            Check(client.WriteAsync(B("from NamedPipeClientStream")).AsTask().Wait(10000), "NamedPipeClientStream write");
            Check(conn.Receive(10000).Text == "from NamedPipeClientStream", "wipc raw server got the .NET message");
            conn.Send(B("from wipc"), 0, 10000);
            var buf = new byte[100];
            int n = Read(client, buf, "NamedPipeClientStream");
            Check(S(buf[..n]) == "from wipc" && client.IsMessageComplete, "NamedPipeClientStream got one whole message");
        }
        string name = Id + "-dotnet-server";
        using (var ps = new NamedPipeServerStream(name, PipeDirection.InOut, 1, PipeTransmissionMode.Message,
                                                  System.IO.Pipes.PipeOptions.Asynchronous, 65536, 65536))
        {
            var waiting = ps.WaitForConnectionAsync();
            using var conn = Connection.Connect(@"\\.\pipe\" + name, raw, 10000);
            Check(waiting.Wait(10000), "NamedPipeServerStream accepted the wipc client");
            conn.Send(B("one"), 0, 10000);
            conn.Send(B("two"), 0, 10000);
            var buf = new byte[100];
            int n1 = Read(ps, buf, "NamedPipeServerStream");
            Check(S(buf[..n1]) == "one" && ps.IsMessageComplete, "first message whole");
            int n2 = Read(ps, buf, "NamedPipeServerStream");
            Check(S(buf[..n2]) == "two", "second message");
            Check(ps.WriteAsync(B("reply from NamedPipeServerStream")).AsTask().Wait(10000), "NamedPipeServerStream write");
            Check(conn.Receive(10000).Text == "reply from NamedPipeServerStream", "wipc raw client got the .NET message");
        }
        Console.WriteLine("consumer: NamedPipeClientStream <-> wipc raw server, wipc raw client <-> NamedPipeServerStream (message mode)");
    }

    // MemoryMappedFile.OpenExisting on the section of a wipc region (Local\wipc-region-NAME).
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    static void DotNetMemoryMappedFile()
    {
        using var region = Region.Create(Id + "-region", 4096);
        region.Write(16, B("written by wipc"));
        using var mmf = MemoryMappedFile.OpenExisting(@"Local\wipc-region-" + Id + "-region");
        using var view = mmf.CreateViewAccessor(0, 4096);
        var buf = new byte[15];
        view.ReadArray(16, buf, 0, buf.Length);
        Check(S(buf) == "written by wipc", "MemoryMappedFile sees the region: " + S(buf));
        view.WriteArray(100, B("written by .NET"), 0, 15);
        view.Flush();
        Check(S(region.Read(100, 15)) == "written by .NET", "the region sees the MemoryMappedFile write");
        Console.WriteLine("consumer: MemoryMappedFile.OpenExisting on a wipc region, both ways");
    }

    static int Main()
    {
        try
        {
            Console.WriteLine($"consumer: wipc {Library.Version} on {RuntimeInformation.FrameworkDescription}, " +
                              $"{RuntimeInformation.OSDescription} ({RuntimeInformation.RuntimeIdentifier})");
            Check(Library.VersionNumber >> 16 == 1, "run-time major version 1");
            Pipe();
            Shm();
            MsgTransport();
            Errors();
            AsyncAndCancel().GetAwaiter().GetResult();
            if (OperatingSystem.IsWindows())
            {
                DotNetPipes();
                DotNetMemoryMappedFile();
            }
            else
                Console.WriteLine("consumer: .NET NamedPipe*Stream / MemoryMappedFile interop: Windows only (message-mode pipes, named sections)");
            Library.Shutdown();
            Console.WriteLine($"consumer: {checks} checks passed");
            Console.WriteLine("consumer: OK");
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("consumer: FAILED: " + e);
            return 1;
        }
    }
}
