// Library.cs - process-wide things: version, constants, shutdown, log lines, callback exceptions.
using System;
using System.Runtime.InteropServices;

namespace Wipc
{
    /// <summary>The wipc library itself: version, flag constants, shutdown, logging.</summary>
    public static class Library
    {
        /// <summary>Wait forever (WIPC_INFINITE; int millisecond timeouts take it, 0 polls).</summary>
        public const int Infinite = WipcNative.WIPC_INFINITE;
        /// <summary>WIPC_PIPE_ALLOW_REMOTE: Windows servers accept clients of other machines (no
        /// PIPE_REJECT_REMOTE_CLIENTS); ignored by connect and on Linux.</summary>
        public const uint PipeAllowRemote = WipcNative.WIPC_PIPE_ALLOW_REMOTE;
        /// <summary>WIPC_PIPE_RAW: no wipc framing or handshake: a plain message-mode pipe (Windows) /
        /// AF_UNIX stream (Linux) for foreign peers such as NamedPipeClientStream.</summary>
        public const uint PipeRaw = WipcNative.WIPC_PIPE_RAW;
        /// <summary>WIPC_PIPE_ANY_USER: servers accept clients of any user (Windows: DACL grants
        /// Everyone; Linux: no SO_PEERCRED uid check).</summary>
        public const uint PipeAnyUser = WipcNative.WIPC_PIPE_ANY_USER;
        /// <summary>WIPC_PIPE_WAIT_FOR_SERVER (since 1.1): Connect waits up to its timeout for a server
        /// that is not up yet; without it a name nobody serves fails at once (WipcNotFoundException).</summary>
        public const uint PipeWaitForServer = WipcNative.WIPC_PIPE_WAIT_FOR_SERVER;
        /// <summary>WIPC_PIPE_LENGTH_PREFIX (since 1.1): a RAW pipe (implied) whose messages are a 4-byte
        /// little-endian length, then the payload, for foreign length-prefixed protocols: received whole
        /// however the bytes arrive; a length above MaxMessageSize ends the connection
        /// (WipcTooLargeException) before anything is allocated; requests are not supported.</summary>
        public const uint PipeLengthPrefix = WipcNative.WIPC_PIPE_LENGTH_PREFIX;
        /// <summary>WIPC_PIPE_WRITE_BEHIND (since 1.1): Send (and Reply) of up to 8 KiB on the connection
        /// writes at once when nothing is queued and the pipe takes it without blocking, otherwise queues a
        /// copy and returns; the library's I/O thread writes queued messages together (one WriteFile /
        /// send of many). A full queue (MaxQueuedBytes / MaxQueuedMessages) makes Send wait up to its
        /// timeout (WipcTimeoutException, nothing queued). A queued message that cannot be written ends the
        /// connection: the next call (Send, Receive, <see cref="Connection.Flush"/>) throws
        /// WipcDisconnectedException, and which earlier messages the peer read cannot be known (like a
        /// socket's send buffer). Call Connection.Flush before Dispose to be sure everything went. Not with
        /// PipeRaw / PipeLengthPrefix (WipcInvalidArgException).</summary>
        public const uint PipeWriteBehind = WipcNative.WIPC_PIPE_WRITE_BEHIND;
        /// <summary>WIPC_SHM_GLOBAL: Windows: section and events in the Global\ namespace; no effect on Linux.</summary>
        public const uint ShmGlobal = WipcNative.WIPC_SHM_GLOBAL;
        /// <summary>WIPC_MSG_ALLOW_LOWER_INTEGRITY: Windows: lower-integrity senders may reach the
        /// receiver (ChangeWindowMessageFilterEx).</summary>
        public const uint MsgAllowLowerIntegrity = WipcNative.WIPC_MSG_ALLOW_LOWER_INTEGRITY;
        /// <summary>WIPC_MSG_RAW (since 1.1): a plain WM_COPYDATA receiver for senders that do not use wipc:
        /// dwData is the message type, the payload has no wipc header, and the OnMessage return value is the
        /// LRESULT (Linux: the same on the seqpacket socket). Sends to "class:CLASS", "title:TITLE" (Windows) or
        /// "path:/socket" (Linux) targets are raw sends to any such receiver (see wipc.h).</summary>
        public const uint MsgRaw = WipcNative.WIPC_MSG_RAW;
        /// <summary>WIPC_LOG_DEBUG: protocol details and errors the library handles itself (returned errors are not logged).</summary>
        public const int LogDebug = WipcNative.WIPC_LOG_DEBUG;
        /// <summary>WIPC_LOG_INFO: endpoints created / closed, peers attached.</summary>
        public const int LogInfo = WipcNative.WIPC_LOG_INFO;
        /// <summary>WIPC_LOG_WARN: a connection ended by an error, a peer refused.</summary>
        public const int LogWarn = WipcNative.WIPC_LOG_WARN;
        /// <summary>WIPC_LOG_ERROR: lost data or a library thread in trouble.</summary>
        public const int LogError = WipcNative.WIPC_LOG_ERROR;

        static NativeLogCallback? logThunk;   // keeps the delegate the library holds alive

        /// <summary>The run-time library version, "major.minor.patch" (wipc_version_string).</summary>
        public static string Version => WipcNative.wipc_version_string();

        /// <summary>The run-time version as (major &lt;&lt; 16) | (minor &lt;&lt; 8) | patch (wipc_version).</summary>
        public static uint VersionNumber => WipcNative.wipc_version();

        /// <summary>The C name of a status, e.g. "WIPC_E_TIMEOUT" (wipc_status_name).</summary>
        public static string StatusName(Status status) => WipcNative.wipc_status_name((int)status);

        /// <summary>Closes every wipc object of the process (blocked calls throw WipcClosedException,
        /// pending asynchronous operations complete with it), waits for running callbacks and stops the
        /// library's threads (wipc_shutdown). Runs at process exit too. Must not be called from a
        /// callback or event handler (WipcInvalidStateException).</summary>
        public static void Shutdown()
        {
            Native.Check(WipcNative.wipc_shutdown());
            WipcObject.ForgetAllCallbacks();
        }

        /// <summary>Raised, on the library thread, for an exception a callback or event handler threw;
        /// the library carries on. Without a handler the exception is written to stderr.</summary>
        public static event Action<Exception>? CallbackException;

        internal static void ReportCallbackException(Exception e)
        {
            var handler = CallbackException;
            try
            {
                if (handler != null)
                    handler(e);
                else
                    Console.Error.WriteLine("wipc: exception in a callback (ignored): " + e);
            }
            catch (Exception)
            {
                // a failing handler must not cross into native code either
            }
        }

        /// <summary>Sends the library's log lines at <paramref name="minLevel"/> (LogDebug..LogError) and
        /// above to callback(level, text), synchronously on whatever thread logged them (return quickly,
        /// call no wipc function); null removes it (wipc_set_log_callback).</summary>
        public static void SetLogCallback(Action<int, string>? callback, int minLevel = LogInfo)
        {
            NativeLogCallback? thunk = null;
            if (callback != null)
                thunk = (level, text, user) =>
                {
                    try { callback(level, Marshal.PtrToStringAnsi(text) ?? ""); }
                    catch (Exception e) { ReportCallbackException(e); }
                };
            Native.Check(WipcNative.wipc_set_log_callback(thunk, minLevel, IntPtr.Zero));
            logThunk = thunk;
        }
    }
}
