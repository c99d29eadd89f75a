// Helpers.cs - what the tests share: unique names, peer processes (the .NET WipcPeer, the wipc CLI,
// Python scripts over python-tests/wipc_ctypes.py), waiting for a condition.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace Wipc.Tests
{
    static class T
    {
        static int counter;

        /// <summary>A name no other test (or test run) uses.</summary>
        public static string Name(string tag) =>
            $"cs-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}-{tag}";

        public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
        public static string S(byte[] b) => Encoding.UTF8.GetString(b);

        public static string Repo { get; } = typeof(T).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "WipcRepo").Value!;

        /// <summary>The Linux build the tests run against (WIPC_LIBRARY's folder, else build/linux).</summary>
        public static string Build
        {
            get
            {
                var lib = Environment.GetEnvironmentVariable("WIPC_LIBRARY");
                return string.IsNullOrEmpty(lib) ? Path.Combine(Repo, "build", "linux") : Path.GetDirectoryName(lib)!;
            }
        }

        /// <summary>Waits up to 10 s for `condition`.</summary>
        public static void WaitFor(Func<bool> condition, string what)
        {
            var sw = Stopwatch.StartNew();
            while (!condition())
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(10))
                    throw new Xunit.Sdk.XunitException("timed out waiting for " + what);
                Thread.Sleep(5);
            }
        }

        /// <summary>Throws unless `task` completes within 30 s (a hang fails instead of blocking the run).</summary>
        public static async Task<TR> Within<TR>(Task<TR> task)
        {
            if (await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(30))) != task)
                throw new Xunit.Sdk.XunitException("the operation did not complete within 30 s");
            return await task;
        }
    }

    /// <summary>A pipe server with one client connected and accepted; disposes all three.</summary>
    sealed class PipePair : IDisposable
    {
        public PipeServer Server { get; }
        public Connection Client { get; }
        public Connection Conn { get; }

        public PipePair(string tag)
        {
            Server = new PipeServer(T.Name(tag));
            Client = Connection.Connect(Server.Name, 5000);
            Conn = Server.Accept(5000);
        }

        public void Dispose()
        {
            Client.Dispose();
            Conn.Dispose();
            Server.Dispose();
        }
    }

    /// <summary>A peer process, killed (with its children) and reaped on Dispose.</summary>
    sealed class Peer : IDisposable
    {
        readonly Process p;
        public string FirstLine { get; }

        Peer(string file, string args, string? waitFor)
        {
            var si = new ProcessStartInfo(file, args)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false,
            };
            si.Environment["WIPC_LIBRARY"] = Path.Combine(T.Build, "libwipc.so.1");
            si.Environment["PYTHONPATH"] = Path.Combine(T.Repo, "python-tests");
            p = Process.Start(si)!;
            FirstLine = "";
            if (waitFor == null)
                return;
            var line = p.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result == null || !line.Result.Contains(waitFor))
            {
                var err = p.HasExited ? p.StandardError.ReadToEnd() : "(still running)";
                Kill();
                throw new Xunit.Sdk.XunitException($"peer {file} {args} did not print '{waitFor}': {line.Status} {err}");
            }
            FirstLine = line.Result;
        }

        /// <summary>The .NET WipcPeer (built beside the tests): `serve URI --until-eof` etc.</summary>
        public static Peer DotNet(string args, string? waitFor = "listening on") =>
            new Peer("dotnet", Path.Combine(AppContext.BaseDirectory, "WipcPeer.dll") + " " + args, waitFor);

        /// <summary>The wipc CLI of the build.</summary>
        public static Peer Cli(string args, string? waitFor = "listening on") =>
            new Peer(Path.Combine(T.Build, "wipc"), args, waitFor);

        /// <summary>A Python 3 script (python-tests on sys.path: `import wipc_ctypes as w`).</summary>
        public static Peer Python(string script, string? waitFor)
        {
            var file = Path.Combine(Path.GetTempPath(), $"wipc-cs-{Environment.ProcessId}-{Guid.NewGuid():N}.py");
            File.WriteAllText(file, script);
            return new Peer("/usr/bin/python3", file, waitFor);
        }

        public int Pid => p.Id;

        /// <summary>Waits for the peer to exit; its exit code and all its output.</summary>
        public (int code, string stdout, string stderr) Wait(int seconds = 60)
        {
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(seconds * 1000))
            {
                Kill();
                throw new Xunit.Sdk.XunitException("the peer did not exit in time");
            }
            return (p.ExitCode, o.Result, e.Result);
        }

        public void CloseInput() => p.StandardInput.Close();

        public void Kill()
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            p.WaitForExit(10000);
        }

        public void Dispose()
        {
            Kill();
            p.Dispose();
        }
    }
}
