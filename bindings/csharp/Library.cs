// Library.cs - process-wide things: version, constants, shutdown, log lines, callback exceptions.
using System;
using System.Runtime.InteropServices;

namespace Wipc
{
    /// <summary>The wipc library itself.</summary>
    public static class Library
    {
        /// <summary>Wait forever (timeouts are int milliseconds; 0 polls).</summary>
        public const int Infinite = WipcNative.WIPC_INFINITE;
        public const uint PipeAllowRemote = WipcNative.WIPC_PIPE_ALLOW_REMOTE;
        public const uint PipeRaw = WipcNative.WIPC_PIPE_RAW;
        public const uint PipeAnyUser = WipcNative.WIPC_PIPE_ANY_USER;
        public const uint ShmGlobal = WipcNative.WIPC_SHM_GLOBAL;
        public const uint MsgAllowLowerIntegrity = WipcNative.WIPC_MSG_ALLOW_LOWER_INTEGRITY;
        public const int LogDebug = WipcNative.WIPC_LOG_DEBUG, LogInfo = WipcNative.WIPC_LOG_INFO,
                         LogWarn = WipcNative.WIPC_LOG_WARN, LogError = WipcNative.WIPC_LOG_ERROR;

#pragma warning disable 414   // written only: the field keeps the delegate alive while the library holds it
        static NativeLogCallback logThunk;
#pragma warning restore 414

        /// <summary>The run-time library version, "major.minor.patch".</summary>
        public static string Version { get { return WipcNative.wipc_version_string(); } }

        /// <summary>The run-time version as (major &lt;&lt; 16) | (minor &lt;&lt; 8) | patch.</summary>
        public static uint VersionNumber { get { return WipcNative.wipc_version(); } }

        /// <summary>The C name of a status, e.g. "WIPC_E_TIMEOUT".</summary>
        public static string StatusName(Status status) { return WipcNative.wipc_status_name((int)status); }

        /// <summary>Closes every wipc object of the process (blocked calls throw WipcClosedException),
        /// waits for running callbacks and stops the library's threads. Runs at process exit too.</summary>
        public static void Shutdown()
        {
            Native.Check(WipcNative.wipc_shutdown());
            WipcObject.ForgetAllCallbacks();
        }

        /// <summary>Raised (on the library thread) for an exception a callback threw; the library
        /// carries on. Without a handler the exception is written to stderr.</summary>
        public static event Action<Exception> CallbackException;

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

        /// <summary>Sends the library's log lines at `minLevel` and above to callback(level, text), on
        /// whatever thread logged them; null removes it.</summary>
        public static void SetLogCallback(Action<int, string> callback, int minLevel = LogInfo)
        {
            NativeLogCallback thunk = null;
            if (callback != null)
                thunk = (level, text, user) =>
                {
                    try { callback(level, Marshal.PtrToStringAnsi(text)); }
                    catch (Exception e) { ReportCallbackException(e); }
                };
            Native.Check(WipcNative.wipc_set_log_callback(thunk, minLevel, IntPtr.Zero));
            logThunk = thunk;
        }
    }
}
