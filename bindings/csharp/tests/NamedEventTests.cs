// NamedEventTests.cs - Wipc.NamedEvent (wipc_event_*, 1.1): auto and manual reset, the initial state,
// timeouts, Dispose from another thread ending a Wait, a full object name, bad names.
using System;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using static Wipc.Tests.T;

namespace Wipc.Tests
{
    public class NamedEventTests
    {
        [Fact]
        public void AutoResetReleasesOneWaitPerSet()
        {
            string name = Name("nev-auto");
            using var ev = NamedEvent.Create(name);
            using var other = NamedEvent.Open(name);
            Assert.False(other.Wait(0));
            ev.Set();
            Assert.True(other.Wait(0));
            Assert.False(other.Wait(0));
            Assert.Throws<WipcAddrInUseException>(() => NamedEvent.Create(name));
        }

        [Fact]
        public void ManualResetStaysSet()
        {
            using var ev = NamedEvent.Create(Name("nev-manual"), manualReset: true, initiallySet: true);
            Assert.True(ev.Wait(0));
            Assert.True(ev.Wait(0));
            ev.Reset();
            Assert.False(ev.Wait(50));
        }

        [Fact]
        public void DisposeEndsAWaitInAnotherThread()
        {
            var ev = NamedEvent.Create(Name("nev-close"));
            var waiter = Task.Run(() => ev.Wait());
            Thread.Sleep(300);
            ev.Dispose();
            var e = Assert.ThrowsAny<Exception>(() => waiter.Wait(10000));   // ends: never hangs
            // WipcClosedException when Dispose ended the wait; ObjectDisposedException when the waiter
            // thread had not reached Wait yet (a loaded machine: seen in CI)
            Assert.True(e.InnerException is WipcClosedException || e.InnerException is ObjectDisposedException,
                        e.InnerException?.GetType().FullName);
            Assert.Throws<ObjectDisposedException>(() => ev.Set());
        }

        [Fact]
        public void FullNameAndBadNames()
        {
            string full = (OperatingSystem.IsWindows() ? "Local\\" : "/") + Name("nev-full");
            using (var ev = NamedEvent.Create(full))
            using (var other = NamedEvent.Open(full))
            {
                other.Set();
                Assert.True(ev.Wait(5000));
            }
            Assert.Throws<WipcNotFoundException>(() => NamedEvent.Open(Name("nev-absent")));
            Assert.Throws<WipcInvalidArgException>(() => NamedEvent.Create(OperatingSystem.IsWindows() ? "Local\\a\\b" : "/a/b"));
            Assert.Throws<ArgumentNullException>(() => NamedEvent.Open(null!));
        }
    }
}
