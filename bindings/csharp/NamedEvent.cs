// NamedEvent.cs - named events (ABI 1.1, wipc_event_*): an auto- or manual-reset event that other
// processes - wipc programs or not - open by name.
using System;
using System.Threading;

namespace Wipc
{
    /// <summary>A named event (since wipc 1.1): <see cref="Set"/> releases one <see cref="Wait"/> (auto reset)
    /// or every wait until <see cref="Reset"/> (manual reset). The name is a wipc name (1-128 characters of
    /// [A-Za-z0-9._-]) or a full object name used as given - Windows <c>Local\Name</c> / <c>Global\Name</c>
    /// (a kernel event, CreateEventW / OpenEventW), Linux <c>/Name</c> (a futex word in a 64-byte shm
    /// object, layout in docs/PROTOCOL.md) - to meet programs that do not use wipc. Dispose (from any
    /// thread) ends waits in other threads with <see cref="WipcClosedException"/>.</summary>
    public sealed class NamedEvent : WipcObject
    {
        NamedEvent(ulong handle) : base(handle) { }

        /// <summary>Creates the event <paramref name="name"/> (wipc_event_create); it must not exist yet.
        /// <paramref name="manualReset"/>: stays set until <see cref="Reset"/>; <paramref name="initiallySet"/>:
        /// starts set; <paramref name="securityDescriptor"/>: Windows SDDL for its DACL (null = owner-only),
        /// must be null on Linux. Throws ArgumentNullException, WipcInvalidArgException (bad name, flags or
        /// SDDL), WipcAddrInUseException (the name exists), WipcAccessDeniedException.</summary>
        public static NamedEvent Create(string name, bool manualReset = false, bool initiallySet = false, string? securityDescriptor = null)
        {
            Native.NotNull(name, nameof(name));
            uint flags = (manualReset ? WipcNative.WIPC_EVENT_FLAG_MANUAL_RESET : 0) | (initiallySet ? WipcNative.WIPC_EVENT_FLAG_INITIAL_SET : 0);
            ulong h;
            Native.Check(WipcNative.wipc_event_create(name, flags, securityDescriptor!, out h));
            return new NamedEvent(h);
        }

        /// <summary>Opens the existing event <paramref name="name"/> (wipc_event_open), made by wipc or, under a
        /// full name, by another program. Throws ArgumentNullException, WipcNotFoundException,
        /// WipcProtocolException (the name holds something that is not an event), WipcAccessDeniedException.</summary>
        public static NamedEvent Open(string name)
        {
            Native.NotNull(name, nameof(name));
            ulong h;
            Native.Check(WipcNative.wipc_event_open(name, 0, out h));
            return new NamedEvent(h);
        }

        /// <summary>Sets the event (wipc_event_set: SetEvent / the futex word to 1 and a wake). Never blocks.
        /// Throws ObjectDisposedException, WipcProtocolException (Linux: a corrupt event object).</summary>
        public void Set() => Native.Check(WipcNative.wipc_event_set(Live));

        /// <summary>Resets the event to not set (wipc_event_reset). Throws ObjectDisposedException,
        /// WipcProtocolException (Linux: a corrupt event object).</summary>
        public void Reset() => Native.Check(WipcNative.wipc_event_reset(Live));

        /// <summary>Waits up to <paramref name="millisecondsTimeout"/> (Timeout.Infinite = forever, 0 = only
        /// look) for the event to be set (wipc_event_wait); an auto-reset event is taken by this wait. Returns
        /// true if it was set, false on timeout (as WaitHandle.WaitOne). Blocks the calling thread. Throws
        /// ObjectDisposedException, WipcClosedException (disposed meanwhile), WipcProtocolException (Linux: a
        /// corrupt event object), ArgumentOutOfRangeException (a timeout below -1).</summary>
        public bool Wait(int millisecondsTimeout = Timeout.Infinite)
        {
            if (millisecondsTimeout < Timeout.Infinite)
                throw new ArgumentOutOfRangeException(nameof(millisecondsTimeout), "use Timeout.Infinite (-1) to wait forever");
            int st = WipcNative.wipc_event_wait(Live, millisecondsTimeout);
            if (st == WipcNative.WIPC_E_TIMEOUT)
                return false;
            Native.Check(st);
            return true;
        }
    }
}
