// Errors.cs - wipc statuses as C#: the Status enum and WipcException, with one subclass per status.
using System;

namespace Wipc
{
    /// <summary>The library's status codes (wipc_status); values fixed forever.</summary>
    public enum Status
    {
        Ok = WipcNative.WIPC_OK,
        InvalidArg = WipcNative.WIPC_E_INVALID_ARG,
        BadHandle = WipcNative.WIPC_E_BAD_HANDLE,
        NoMemory = WipcNative.WIPC_E_NO_MEMORY,
        Timeout = WipcNative.WIPC_E_TIMEOUT,
        NotFound = WipcNative.WIPC_E_NOT_FOUND,
        AddrInUse = WipcNative.WIPC_E_ADDR_IN_USE,
        AccessDenied = WipcNative.WIPC_E_ACCESS_DENIED,
        Disconnected = WipcNative.WIPC_E_DISCONNECTED,
        TooLarge = WipcNative.WIPC_E_TOO_LARGE,
        BufferTooSmall = WipcNative.WIPC_E_BUFFER_TOO_SMALL,
        Closed = WipcNative.WIPC_E_CLOSED,
        Protocol = WipcNative.WIPC_E_PROTOCOL,
        NotSupported = WipcNative.WIPC_E_NOT_SUPPORTED,
        Busy = WipcNative.WIPC_E_BUSY,
        System = WipcNative.WIPC_E_SYSTEM,
        InvalidState = WipcNative.WIPC_E_INVALID_STATE,
    }

    /// <summary>A wipc call failed. <see cref="Status"/> says how, <see cref="StatusName"/> is the C name
    /// ("WIPC_E_TIMEOUT") and <see cref="LastError"/> the library's message (what failed, on which name,
    /// the OS error). Each status has its own subclass (WipcTimeoutException, ...).</summary>
    public class WipcException : Exception
    {
        /// <summary>The status of the failing call.</summary>
        public Status Status { get; }
        /// <summary>The status's C name, e.g. "WIPC_E_NOT_FOUND".</summary>
        public string StatusName { get; }
        /// <summary>wipc_last_error_message() of the failing call.</summary>
        public string LastError { get; }
        /// <summary>The OS error code of the failure (GetLastError() / errno), 0 if none.</summary>
        public long OsError { get; internal set; }

        /// <summary>An exception for `status` with the library's message.</summary>
        public WipcException(Status status, string lastError)
            : base(string.IsNullOrEmpty(lastError) ? WipcNative.wipc_status_name((int)status) + ": " +
                   WipcNative.wipc_strerror((int)status) : lastError)
        {
            Status = status;
            StatusName = WipcNative.wipc_status_name((int)status);
            LastError = lastError ?? "";
        }

        internal static WipcException Create(int status, string lastError)
        {
            var s = (Status)status;
            switch (s)
            {
                case Status.InvalidArg: return new WipcInvalidArgException(s, lastError);
                case Status.BadHandle: return new WipcBadHandleException(s, lastError);
                case Status.NoMemory: return new WipcNoMemoryException(s, lastError);
                case Status.Timeout: return new WipcTimeoutException(s, lastError);
                case Status.NotFound: return new WipcNotFoundException(s, lastError);
                case Status.AddrInUse: return new WipcAddrInUseException(s, lastError);
                case Status.AccessDenied: return new WipcAccessDeniedException(s, lastError);
                case Status.Disconnected: return new WipcDisconnectedException(s, lastError);
                case Status.TooLarge: return new WipcTooLargeException(s, lastError);
                case Status.BufferTooSmall: return new WipcBufferTooSmallException(s, lastError);
                case Status.Closed: return new WipcClosedException(s, lastError);
                case Status.Protocol: return new WipcProtocolException(s, lastError);
                case Status.NotSupported: return new WipcNotSupportedException(s, lastError);
                case Status.Busy: return new WipcBusyException(s, lastError);
                case Status.System: return new WipcSystemException(s, lastError);
                case Status.InvalidState: return new WipcInvalidStateException(s, lastError);
                default: return new WipcException(s, lastError);
            }
        }
    }

    /// <summary>WIPC_E_INVALID_ARG: a bad name, size, flag or option.</summary>
    public class WipcInvalidArgException : WipcException { internal WipcInvalidArgException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_BAD_HANDLE: the object is closed (or the handle was never valid).</summary>
    public class WipcBadHandleException : WipcException { internal WipcBadHandleException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_NO_MEMORY: an allocation failed.</summary>
    public class WipcNoMemoryException : WipcException { internal WipcNoMemoryException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_TIMEOUT: the wait ran out (also: timeout 0 and nothing ready).</summary>
    public class WipcTimeoutException : WipcException { internal WipcTimeoutException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_NOT_FOUND: no endpoint of that name.</summary>
    public class WipcNotFoundException : WipcException { internal WipcNotFoundException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_ADDR_IN_USE: that name is already served.</summary>
    public class WipcAddrInUseException : WipcException { internal WipcAddrInUseException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_ACCESS_DENIED: the OS or the peer-credential check refused.</summary>
    public class WipcAccessDeniedException : WipcException { internal WipcAccessDeniedException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_DISCONNECTED: the peer closed or died.</summary>
    public class WipcDisconnectedException : WipcException { internal WipcDisconnectedException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_TOO_LARGE: above max_message_size or the ring capacity.</summary>
    public class WipcTooLargeException : WipcException { internal WipcTooLargeException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_BUFFER_TOO_SMALL: a reply larger than the buffer.</summary>
    public class WipcBufferTooSmallException : WipcException { internal WipcBufferTooSmallException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_CLOSED: the object was disposed (or Library.Shutdown ran) while the call waited.</summary>
    public class WipcClosedException : WipcException { internal WipcClosedException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_PROTOCOL: a malformed frame, a version mismatch or a corrupt shared header.</summary>
    public class WipcProtocolException : WipcException { internal WipcProtocolException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_NOT_SUPPORTED: not for this object or platform.</summary>
    public class WipcNotSupportedException : WipcException { internal WipcNotSupportedException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_BUSY: every instance busy, the shm channel has a peer, or a msg queue is full.</summary>
    public class WipcBusyException : WipcException { internal WipcBusyException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_SYSTEM: another OS error (see LastError).</summary>
    public class WipcSystemException : WipcException { internal WipcSystemException(Status s, string m) : base(s, m) { } }
    /// <summary>WIPC_E_INVALID_STATE: e.g. Receive() on an object that has callbacks.</summary>
    public class WipcInvalidStateException : WipcException { internal WipcInvalidStateException(Status s, string m) : base(s, m) { } }
}
