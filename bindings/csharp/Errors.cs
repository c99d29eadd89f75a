// Errors.cs - wipc statuses as .NET exceptions. Each status maps onto the .NET type callers already
// catch; every wipc exception also implements IWipcError (Status, StatusName, LastError, OsError).
using System;
using System.IO;

namespace Wipc
{
    /// <summary>The library's status codes (wipc_status of wipc.h); the values are fixed forever.</summary>
    public enum Status
    {
        /// <summary>WIPC_OK: success.</summary>
        Ok = 0,
        /// <summary>WIPC_E_INVALID_ARG: a bad name, size, flag or option.</summary>
        InvalidArg = -1,
        /// <summary>WIPC_E_BAD_HANDLE: the object is closed (or the handle was never valid).</summary>
        BadHandle = -2,
        /// <summary>WIPC_E_NO_MEMORY: an allocation failed.</summary>
        NoMemory = -3,
        /// <summary>WIPC_E_TIMEOUT: the wait ran out (also: timeout 0 and nothing ready).</summary>
        Timeout = -4,
        /// <summary>WIPC_E_NOT_FOUND: no endpoint of that name.</summary>
        NotFound = -5,
        /// <summary>WIPC_E_ADDR_IN_USE: that name is already served.</summary>
        AddrInUse = -6,
        /// <summary>WIPC_E_ACCESS_DENIED: the OS or the peer-credential check refused.</summary>
        AccessDenied = -7,
        /// <summary>WIPC_E_DISCONNECTED: the peer closed or died.</summary>
        Disconnected = -8,
        /// <summary>WIPC_E_TOO_LARGE: above max_message_size or the ring capacity.</summary>
        TooLarge = -9,
        /// <summary>WIPC_E_BUFFER_TOO_SMALL: a reply larger than the buffer.</summary>
        BufferTooSmall = -10,
        /// <summary>WIPC_E_CLOSED: the object was disposed (or Library.Shutdown ran) while the call waited.</summary>
        Closed = -11,
        /// <summary>WIPC_E_PROTOCOL: a malformed frame, a version mismatch or a corrupt shared header.</summary>
        Protocol = -12,
        /// <summary>WIPC_E_NOT_SUPPORTED: not for this object or platform.</summary>
        NotSupported = -13,
        /// <summary>WIPC_E_BUSY: every instance busy, the shm channel has a peer, or a msg queue is full.</summary>
        Busy = -14,
        /// <summary>WIPC_E_SYSTEM: another OS error (see <see cref="IWipcError.OsError"/>).</summary>
        System = -15,
        /// <summary>WIPC_E_INVALID_STATE: e.g. Receive() on an object that has callbacks.</summary>
        InvalidState = -16,
        /// <summary>WIPC_E_CANCELLED (1.1): an asynchronous operation was cancelled.</summary>
        Cancelled = -17,
        /// <summary>WIPC_E_REMOTE (1.1): the peer answered the request with an error (wipc_reply_error).</summary>
        Remote = -18,
    }

    /// <summary>What every exception thrown for a wipc status carries, whatever its .NET base class
    /// (<see cref="WipcException"/> is an <see cref="IOException"/>, <see cref="WipcTimeoutException"/> a
    /// <see cref="TimeoutException"/>, ...). Catch every wipc failure with
    /// <c>catch (Exception e) when (e is IWipcError)</c>.</summary>
    public interface IWipcError
    {
        /// <summary>The status of the failing call.</summary>
        Status Status { get; }
        /// <summary>The status's C name, e.g. "WIPC_E_NOT_FOUND".</summary>
        string StatusName { get; }
        /// <summary>wipc_last_error_message() of the failing call: what failed, on which name, the OS error.</summary>
        string LastError { get; }
        /// <summary>The OS error code of the failure (GetLastError() / errno), 0 if none.</summary>
        long OsError { get; }
    }

    /// <summary>The data of one failed call, shared by every wipc exception type.</summary>
    internal sealed class ErrorInfo
    {
        internal readonly Status Status;
        internal readonly string LastError;
        internal readonly long OsError;

        internal ErrorInfo(Status status, string? lastError, long osError)
        {
            Status = status;
            LastError = lastError ?? "";
            OsError = osError;
        }

        internal string StatusName => Library.StatusName(Status);

        /// <summary>The exception message: the library's text, else "WIPC_E_X: strerror".</summary>
        internal string Message => LastError.Length > 0 ? LastError : StatusName + ": " + WipcNative.wipc_strerror((int)Status);
    }

    /// <summary>A wipc call failed with a status that .NET treats as an I/O failure (the peer went, a
    /// protocol error, a busy name, ...). Base class of the wipc exceptions that are
    /// <see cref="IOException"/>s; the others derive from the .NET type their callers catch (see
    /// <see cref="IWipcError"/>).</summary>
    public class WipcException : IOException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcException(ErrorInfo info) : base(info.Message) { this.info = info; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;

        /// <summary>The exception of the .NET family `status` belongs to (see the class list).</summary>
        internal static Exception Create(int status, string? lastError, long osError)
        {
            var i = new ErrorInfo((Status)status, lastError, osError);
            switch (i.Status)
            {
                case Status.InvalidArg: return new WipcInvalidArgException(i);
                case Status.BadHandle: return new WipcBadHandleException(i);
                case Status.Closed: return new WipcClosedException(i);
                case Status.Timeout: return new WipcTimeoutException(i);
                case Status.NotFound: return new WipcNotFoundException(i);
                case Status.AccessDenied: return new WipcAccessDeniedException(i);
                case Status.NotSupported: return new WipcNotSupportedException(i);
                case Status.InvalidState: return new WipcInvalidStateException(i);
                case Status.Cancelled: return new WipcCancelledException(i);
                case Status.Disconnected: return new WipcDisconnectedException(i);
                case Status.TooLarge: return new WipcTooLargeException(i);
                case Status.Busy: return new WipcBusyException(i);
                case Status.AddrInUse: return new WipcAddrInUseException(i);
                case Status.Protocol: return new WipcProtocolException(i);
                case Status.Remote: return WipcRemoteException.FromMessage(i);
                default: return new WipcException(i);   // NoMemory, BufferTooSmall, System, unknown
            }
        }
    }

    /// <summary>WIPC_E_DISCONNECTED: the peer closed or died (an <see cref="IOException"/>).</summary>
    public sealed class WipcDisconnectedException : WipcException { internal WipcDisconnectedException(ErrorInfo i) : base(i) { } }
    /// <summary>WIPC_E_TOO_LARGE: the message is above max_message_size or the ring capacity.</summary>
    public sealed class WipcTooLargeException : WipcException { internal WipcTooLargeException(ErrorInfo i) : base(i) { } }
    /// <summary>WIPC_E_BUSY: every pipe instance busy, the shm channel has a peer, or a msg queue is full.</summary>
    public sealed class WipcBusyException : WipcException { internal WipcBusyException(ErrorInfo i) : base(i) { } }
    /// <summary>WIPC_E_ADDR_IN_USE: that name is already served.</summary>
    public sealed class WipcAddrInUseException : WipcException { internal WipcAddrInUseException(ErrorInfo i) : base(i) { } }
    /// <summary>WIPC_E_PROTOCOL: a malformed frame, a version mismatch or a corrupt shared header.</summary>
    public sealed class WipcProtocolException : WipcException { internal WipcProtocolException(ErrorInfo i) : base(i) { } }

    /// <summary>WIPC_E_REMOTE (1.1): the peer's handler answered the request with an error
    /// (wipc_reply_error; a C# handler that throws does so). <see cref="Code"/> and
    /// <see cref="RemoteMessage"/> are what the peer sent.</summary>
    public sealed class WipcRemoteException : WipcException
    {
        /// <summary>A remote error to throw from a request handler (PipeServer handler, SetHandler): the
        /// requester gets WIPC_E_REMOTE with <paramref name="code"/> and <paramref name="remoteMessage"/>.</summary>
        public WipcRemoteException(int code, string remoteMessage)
            : this(new ErrorInfo(Status.Remote, "remote error " + code + ": " + remoteMessage, 0), code, remoteMessage) { }

        internal WipcRemoteException(ErrorInfo i, int code, string remoteMessage) : base(i)
        {
            Code = code;
            RemoteMessage = remoteMessage;
        }
        /// <summary>Parses the library's "remote error CODE: TEXT" (wipc_last_remote_code, wipc.h).</summary>
        internal static WipcRemoteException FromMessage(ErrorInfo i)
        {
            var m = System.Text.RegularExpressions.Regex.Match(i.LastError, @"remote error (-?[0-9]+): ?(.*)\z",
                                                                System.Text.RegularExpressions.RegexOptions.Singleline);
            return m.Success ? new WipcRemoteException(i, int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value)
                             : new WipcRemoteException(i, 0, i.LastError);
        }

        /// <summary>The peer's int32 error code.</summary>
        public int Code { get; }
        /// <summary>The peer's UTF-8 error text (at most 4 KiB).</summary>
        public string RemoteMessage { get; }
    }

    /// <summary>WIPC_E_TIMEOUT: the wait ran out (also: timeout 0 and nothing ready). A
    /// <see cref="TimeoutException"/>, which is not an IOException: catch it as TimeoutException or
    /// as <see cref="IWipcError"/>.</summary>
    public sealed class WipcTimeoutException : TimeoutException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcTimeoutException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_NOT_FOUND: no endpoint of that name (a <see cref="FileNotFoundException"/>, so
    /// also an IOException).</summary>
    public sealed class WipcNotFoundException : FileNotFoundException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcNotFoundException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_ACCESS_DENIED: the OS or the peer-credential check refused (an
    /// <see cref="UnauthorizedAccessException"/>).</summary>
    public sealed class WipcAccessDeniedException : UnauthorizedAccessException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcAccessDeniedException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_INVALID_ARG: a bad name, size, flag or option (an <see cref="ArgumentException"/>;
    /// null arguments throw .NET's own <see cref="ArgumentNullException"/> before any call).</summary>
    public sealed class WipcInvalidArgException : ArgumentException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcInvalidArgException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_BAD_HANDLE: the library no longer knows the object (Library.Shutdown closed it).
    /// An <see cref="ObjectDisposedException"/>; a call on an object you disposed throws .NET's own
    /// ObjectDisposedException before reaching the library.</summary>
    public sealed class WipcBadHandleException : ObjectDisposedException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcBadHandleException(ErrorInfo i) : base(null, i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_CLOSED: the object was disposed (or Library.Shutdown ran) while the call waited;
    /// pending asynchronous operations complete with it too. An <see cref="ObjectDisposedException"/>.</summary>
    public sealed class WipcClosedException : ObjectDisposedException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcClosedException(ErrorInfo i) : base(null, i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_NOT_SUPPORTED: not for this object or platform (a <see cref="NotSupportedException"/>).</summary>
    public sealed class WipcNotSupportedException : NotSupportedException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcNotSupportedException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_INVALID_STATE: e.g. Receive() on an object in event/callback mode (an
    /// <see cref="InvalidOperationException"/>).</summary>
    public sealed class WipcInvalidStateException : InvalidOperationException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcInvalidStateException(ErrorInfo i) : base(i.Message) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }

    /// <summary>WIPC_E_CANCELLED (1.1): the operation was cancelled (an <see cref="OperationCanceledException"/>;
    /// async methods cancelled through their CancellationToken throw one that carries that token).</summary>
    public sealed class WipcCancelledException : OperationCanceledException, IWipcError
    {
        readonly ErrorInfo info;
        internal WipcCancelledException(ErrorInfo i, System.Threading.CancellationToken token = default)
            : base(i.Message, token) { info = i; }
        /// <inheritdoc/>
        public Status Status => info.Status;
        /// <inheritdoc/>
        public string StatusName => info.StatusName;
        /// <inheritdoc/>
        public string LastError => info.LastError;
        /// <inheritdoc/>
        public long OsError => info.OsError;
    }
}
