// Async.cs - the Task-based API (1.1) on the asynchronous C surface of wipc.h (ABI 1.1): every *Async method
// starts one wipc_*_async operation whose completion callback completes a TaskCompletionSource
// (RunContinuationsAsynchronously: awaiting code never runs on the library's callback thread). A
// CancellationToken calls wipc_cancel, which completes the operation with WIPC_E_CANCELLED ->
// OperationCanceledException carrying that token. Disposing the object completes its pending operations
// with WipcClosedException. Pending operations cost memory, not threads.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Wipc
{
    /// <summary>wipc_completion: what a completion callback sees (valid only during the callback).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeCompletion
    {
        public uint struct_size;
        public ulong op;
        public int status;
        public ulong handle;
        public ulong related;
        public IntPtr message;
        public int msg_reply;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void NativeCompleteCallback(IntPtr completion, IntPtr userData);

    /// <summary>Starts one native operation: returns its start status, *op its id.</summary>
    internal delegate int AsyncStarter(NativeCompleteCallback cb, IntPtr userData, out ulong op);

    /// <summary>One operation in flight: pinned by a GCHandle (the user_data of the start call) from its
    /// start until its completion callback, which the library calls exactly once.</summary>
    internal sealed class AsyncOp<T>
    {
        // One delegate for every operation, alive for the process: the library may hold it any time.
        static readonly NativeCompleteCallback Callback = OnComplete;

        readonly TaskCompletionSource<T> tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly Func<NativeCompletion, T> result;
        readonly string what;
        readonly CancellationToken token;
        CancellationTokenRegistration registration;
        bool done;
        ulong op;

        AsyncOp(string what, Func<NativeCompletion, T> result, CancellationToken token)
        {
            this.what = what;
            this.result = result;
            this.token = token;
        }

        /// <summary>Starts the operation; start errors give a faulted task (nothing was started).</summary>
        internal static Task<T> Run(string what, AsyncStarter start, Func<NativeCompletion, T> result, CancellationToken token)
        {
            if (token.IsCancellationRequested)
                return Task.FromCanceled<T>(token);
            var self = new AsyncOp<T>(what, result, token);
            var handle = GCHandle.Alloc(self);
            int st = start(Callback, GCHandle.ToIntPtr(handle), out self.op);
            if (st < 0)
            {
                handle.Free();
                return Task.FromException<T>(Native.Error(st));
            }
            self.WatchToken();
            return self.tcs.Task;
        }

        void WatchToken()
        {
            if (!token.CanBeCanceled)
                return;
            var r = token.Register(s => WipcNative.wipc_cancel(((AsyncOp<T>)s!).op), this);
            bool finished;
            lock (this)
            {
                finished = done;
                if (!finished)
                    registration = r;
            }
            if (finished)
                r.Dispose();
        }

        static void OnComplete(IntPtr completion, IntPtr userData)
        {
            try
            {
                var handle = GCHandle.FromIntPtr(userData);
                var self = (AsyncOp<T>)handle.Target!;
                handle.Free();
                self.Finish(Marshal.PtrToStructure<NativeCompletion>(completion));
            }
            catch (Exception e)
            {
                Library.ReportCallbackException(e);   // never into native code
            }
        }

        void Finish(NativeCompletion c)
        {
            CancellationTokenRegistration r;
            lock (this)
            {
                done = true;
                r = registration;
                registration = default;
            }
#if NETSTANDARD2_0
            if (token.CanBeCanceled)
                ThreadPool.QueueUserWorkItem(s => ((IDisposable)s!).Dispose(), r);   // Dispose may wait for a running cancel
#else
            r.Unregister();
#endif
            if (c.status >= 0)
            {
                try { tcs.TrySetResult(result(c)); }
                catch (Exception e) { tcs.TrySetException(e); }
            }
            else if (c.status == (int)Status.Cancelled && token.IsCancellationRequested)
                tcs.TrySetCanceled(token);
            else
                tcs.TrySetException(Error(c));
        }

        Exception Error(NativeCompletion c)
        {
            var status = (Status)c.status;
            if (status == Status.Remote && c.message != IntPtr.Zero)
            {
                var m = Marshal.PtrToStructure<NativeMessage>(c.message);
                var text = new byte[(long)m.size.ToUInt64()];
                if (text.Length > 0)
                    Marshal.Copy(m.data, text, 0, text.Length);
                string remote = Encoding.UTF8.GetString(text);
                int code = unchecked((int)m.type);
                return new WipcRemoteException(new ErrorInfo(status, $"{what}: remote error {code}: {remote}", 0), code, remote);
            }
            return WipcException.Create(c.status, $"{what}: {Library.StatusName(status)}: {WipcNative.wipc_strerror(c.status)}", 0);
        }
    }

    /// <summary>The Task-based members (1.1).</summary>
    public partial class MessageChannel
    {
        /// <summary>Sends a copy of <paramref name="data"/> as one message tagged <paramref name="type"/>
        /// without blocking (wipc_send_async: the bytes are copied before this returns; pipes queue them
        /// on the connection's write queue, bounded by WIPC_ASYNC_QUEUE_BYTES). Completes when the whole
        /// message was written; faults with WipcDisconnectedException, WipcTooLargeException,
        /// WipcBusyException (the write queue is full), WipcClosedException (disposed while pending);
        /// cancelled by <paramref name="cancellationToken"/> (OperationCanceledException: nothing was sent).</summary>
        public unsafe Task SendAsync(ReadOnlyMemory<byte> data, uint type = 0, CancellationToken cancellationToken = default)
        {
            ulong h = Live;
            using var pin = data.Pin();
            IntPtr p = (IntPtr)pin.Pointer;
            ulong n = (ulong)data.Length;
            return AsyncOp<bool>.Run("wipc_send_async", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_send_async(h, type, p, n, Library.Infinite, cb, u, out op), c => true, cancellationToken);
        }

        /// <summary>Waits for the next message without blocking a thread (wipc_recv_async; several
        /// pending ReceiveAsync complete in the order they were started). Faults with
        /// WipcDisconnectedException (the peer went), WipcInvalidStateException (callback mode),
        /// WipcClosedException (disposed while pending); cancelled by <paramref name="cancellationToken"/>.</summary>
        public Task<Message> ReceiveAsync(CancellationToken cancellationToken = default)
            => ReceiveAsync(Timeout.InfiniteTimeSpan, cancellationToken);

        /// <summary>ReceiveAsync with a time limit (WipcTimeoutException; Timeout.InfiniteTimeSpan = none).</summary>
        public Task<Message> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            ulong h = Live;
            int t = Native.Milliseconds(timeout);
            return AsyncOp<Message>.Run("wipc_recv_async", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_recv_async(h, t, cb, u, out op), c => Native.ReadMessage(c.message, this), cancellationToken);
        }

        /// <summary>Sends a request and completes with its reply (wipc_request_async), without blocking a
        /// thread; any number may be in flight on one object. <paramref name="timeout"/> bounds the whole
        /// exchange (null = none). Faults with WipcRemoteException (the peer's handler answered with an
        /// error: Code, RemoteMessage), WipcTimeoutException, WipcDisconnectedException, WipcClosedException,
        /// WipcNotSupportedException (WIPC_PIPE_RAW connections); cancelled by
        /// <paramref name="cancellationToken"/> (a late reply is dropped).</summary>
        public unsafe Task<byte[]> RequestAsync(ReadOnlyMemory<byte> data, uint type = 0, TimeSpan? timeout = null,
                                                CancellationToken cancellationToken = default)
        {
            ulong h = Live;
            int t = Native.Milliseconds(timeout ?? Timeout.InfiniteTimeSpan);
            using var pin = data.Pin();
            IntPtr p = (IntPtr)pin.Pointer;
            ulong n = (ulong)data.Length;
            return AsyncOp<byte[]>.Run("wipc_request_async", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_request_async(h, type, p, n, t, cb, u, out op), c => Native.ReadMessage(c.message, this).Data,
                cancellationToken);
        }

        /// <summary>The connection's messages as an async stream: ReceiveAsync in a loop, ending when
        /// the peer disconnects (other errors are thrown). Enumerate it once at a time.</summary>
        public async IAsyncEnumerable<Message> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            for (;;)
            {
                Message m;
                try
                {
                    m = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (WipcDisconnectedException)
                {
                    yield break;
                }
                yield return m;
            }
        }

        /// <summary>Answers the request <paramref name="requestId"/> with a remote error (wipc_reply_error):
        /// the requester's Request/RequestAsync throws WipcRemoteException with <paramref name="code"/> and
        /// <paramref name="message"/> (UTF-8, cut at 4 KiB).</summary>
        public void ReplyError(ulong requestId, int code, string message)
        {
            if (requestId == 0)
                throw new ArgumentOutOfRangeException(nameof(requestId), "0 is not a request id");
            Native.NotNull(message, nameof(message));
            Native.Check(WipcNative.wipc_reply_error(Live, requestId, code, message));
        }

        /// <summary>Answers every request with what <paramref name="handler"/> returns (its task may
        /// complete later, on any thread); a handler that throws answers with a remote error (the
        /// exception's Code if it is a WipcRemoteException, its Status if an IWipcError, else its
        /// HResult; its Message, or a WipcRemoteException's RemoteMessage, as the text). Plain messages go to the handler too (its result is
        /// dropped). Switches the object to callback mode, like subscribing to MessageReceived.</summary>
        public void SetHandler(Func<Message, Task<byte[]>> handler)
        {
            Native.NotNull(handler, nameof(handler));
            MessageReceived += (s, e) => Serve(e.Message, handler);
        }

        /// <summary>Runs `handler` for `m` and answers a request with its result or its exception.</summary>
        internal static void Serve(Message m, Func<Message, Task<byte[]>> handler)
        {
            Task<byte[]> t;
            try { t = handler(m) ?? throw new InvalidOperationException("the handler returned no Task"); }
            catch (Exception e) { t = Task.FromException<byte[]>(e); }
            if (t.IsCompleted)
                Answer(m, t);
            else
                t.ContinueWith((done, state) => Answer((Message)state!, done), m, CancellationToken.None,
                               TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        static void Answer(Message m, Task<byte[]> t)
        {
            try
            {
                if (!m.IsRequest)
                {
                    if (t.IsFaulted)
                        Library.ReportCallbackException(t.Exception!.GetBaseException());
                    return;
                }
                var channel = m.Channel();
                if (t.Status == TaskStatus.RanToCompletion)
                    channel.Reply(m.RequestId, t.Result ?? Array.Empty<byte>(), m.Type);
                else
                {
                    Exception e = t.IsCanceled ? new OperationCanceledException("the handler's task was cancelled")
                                               : t.Exception!.GetBaseException();
                    int code = e is WipcRemoteException r ? r.Code : e is IWipcError w ? (int)w.Status : e.HResult;
                    channel.ReplyError(m.RequestId, code, e is WipcRemoteException rr ? rr.RemoteMessage : e.Message);
                }
            }
            catch (Exception e) when (e is ObjectDisposedException || e is WipcDisconnectedException)
            {
                // the requester or the object went away meanwhile: nobody to answer
            }
            catch (Exception e)
            {
                Library.ReportCallbackException(e);
            }
        }
    }

    /// <summary>The Task-based members of Connection (1.1).</summary>
    public sealed partial class Connection
    {
        /// <summary>Connects to the pipe server <paramref name="name"/> without blocking a thread
        /// (wipc_pipe_connect_async), waiting up to <paramref name="timeout"/> for one that is not up yet or
        /// busy. Faults with WipcTimeoutException, WipcAccessDeniedException, WipcInvalidArgException;
        /// cancelled by <paramref name="cancellationToken"/>.</summary>
        public static Task<Connection> ConnectAsync(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
            => ConnectAsync(name, PipeOptions.Default, timeout, cancellationToken);

        /// <summary>ConnectAsync with options (Flags, MaxMessageSize apply).</summary>
        public static Task<Connection> ConnectAsync(string name, PipeOptions options, TimeSpan timeout,
                                                    CancellationToken cancellationToken = default)
        {
            Native.NotNull(name, nameof(name));
            int t = Native.Milliseconds(timeout);
            return AsyncOp<Connection>.Run("wipc_pipe_connect_async(" + name + ")", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_pipe_connect_async(name, ref options, t, cb, u, out op), c => new Connection(c.related), cancellationToken);
        }
    }

    /// <summary>The Task-based members of PipeServer (1.1).</summary>
    public sealed partial class PipeServer
    {
        /// <summary>Waits for the next client without blocking a thread (wipc_pipe_accept_async); the
        /// Connection is yours to dispose. Faults with WipcInvalidStateException (callback mode),
        /// WipcClosedException (disposed while pending); cancelled by <paramref name="cancellationToken"/>.</summary>
        public Task<Connection> AcceptAsync(CancellationToken cancellationToken = default)
            => AcceptAsync(Timeout.InfiniteTimeSpan, cancellationToken);

        /// <summary>AcceptAsync with a time limit (WipcTimeoutException).</summary>
        public Task<Connection> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            ulong h = Live;
            int t = Native.Milliseconds(timeout);
            return AsyncOp<Connection>.Run("wipc_pipe_accept_async", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_pipe_accept_async(h, t, cb, u, out op), c => new Connection(c.related), cancellationToken);
        }

        /// <summary>Serves <paramref name="name"/> in callback mode, answering every request of every
        /// client with what <paramref name="handler"/> returns (see MessageChannel.SetHandler: a handler
        /// that throws answers with a remote error).</summary>
        public PipeServer(string name, Func<Message, Task<byte[]>> handler) : this(name, PipeOptions.Default, handler) { }

        /// <summary>The handler server with options.</summary>
        public PipeServer(string name, PipeOptions options, Func<Message, Task<byte[]>> handler) : this(name, options)
        {
            Native.NotNull(handler, nameof(handler));
            try
            {
                MessageReceived += (s, e) => MessageChannel.Serve(e.Message, handler);
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    /// <summary>The Task-based members of Msg (1.1).</summary>
    public static partial class Msg
    {
        /// <summary>Sends a copy of <paramref name="data"/> to the receiver <paramref name="name"/> without
        /// blocking a thread (wipc_msg_send_async) and completes with its int32 reply. Faults with
        /// WipcNotFoundException, WipcTimeoutException (<paramref name="timeout"/>, null = 5 s), WipcBusyException,
        /// WipcTooLargeException; cancelled by <paramref name="cancellationToken"/>.</summary>
        public static unsafe Task<int> SendAsync(string name, ReadOnlyMemory<byte> data, uint type = 0, TimeSpan? timeout = null,
                                                 CancellationToken cancellationToken = default)
        {
            Native.NotNull(name, nameof(name));
            int t = Native.Milliseconds(timeout ?? TimeSpan.FromSeconds(5));
            using var pin = data.Pin();
            IntPtr p = (IntPtr)pin.Pointer;
            ulong n = (ulong)data.Length;
            return AsyncOp<int>.Run("wipc_msg_send_async(" + name + ")", (NativeCompleteCallback cb, IntPtr u, out ulong op) =>
                WipcNative.wipc_msg_send_async(name, type, p, n, t, cb, u, out op), c => c.msg_reply, cancellationToken);
        }
    }
}
