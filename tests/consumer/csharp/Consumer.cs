// Consumer.cs - a C# program that uses wipc the way a user does: compiled with mcs from the C# binding
// sources shipped in the package (csharp/*.cs of the zip) and nothing else, run with mono against the
// Linux twin of wipc.dll (libwipc.so.1 + the binding's libwipc_csharp.so of the tarball).
//   mcs -out:Consumer.exe tests/consumer/csharp/Consumer.cs <zip>/csharp/*.cs
//   LD_LIBRARY_PATH=<tarball>/lib mono Consumer.exe
// One process: a server thread accepts on a named pipe and answers one request; the main thread
// connects and sends it. Prints "consumer: OK" and exits 0 when the reply came back intact.
using System;
using System.Text;
using System.Threading;
using Wipc;

static class Consumer
{
    static int Main()
    {
        try
        {
            Console.WriteLine("consumer (C#): wipc " + Library.Version);
            if ((Library.VersionNumber >> 16) != 1)
                throw new Exception("run-time major version is not 1: " + Library.Version);
            string name = "consumer-cs-" + System.Diagnostics.Process.GetCurrentProcess().Id;
            Exception serverError = null;
            using (var server = new PipeServer(name))
            {
                var t = new Thread(() =>
                {
                    try
                    {
                        using (var conn = server.Accept(10000))
                        {
                            Message m = conn.Receive(10000);
                            if (m.Type != 7 || m.RequestId == 0)
                                throw new Exception("server got type " + m.Type + ", request id " + m.RequestId);
                            conn.Reply(m.RequestId, Encoding.UTF8.GetBytes("pong:" + Encoding.UTF8.GetString(m.Data)), 8);
                            try { conn.Receive(10000); } catch (WipcException) { } // until the client hangs up
                        }
                    }
                    catch (Exception e) { serverError = e; }
                });
                t.Start();
                string reply;
                using (var client = Connection.Connect(name, 10000))
                    reply = Encoding.UTF8.GetString(client.Request(Encoding.UTF8.GetBytes("ping"), 7, 10000));
                t.Join();
                if (serverError != null)
                    throw new Exception("server thread: " + serverError.Message, serverError);
                if (reply != "pong:ping")
                    throw new Exception("wrong reply: " + reply);
                Console.WriteLine("consumer (C#): request 'ping' over pipe '" + name + "' -> reply '" + reply + "'");
            }
            Library.Shutdown();
            Console.WriteLine("consumer: OK");
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("consumer (C#): FAILED: " + e);
            return 1;
        }
    }
}
