using System.Runtime.InteropServices;

namespace EN.Notify
{
    /// <summary>What a flush, drain or resend did (en_report, marshalled as is).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Report
    {
#pragma warning disable 0649 // written by the marshaller
        private ulong sent;
        private ulong deferred;
        private ulong failed;
        [MarshalAs(UnmanagedType.I1)] private bool heldByMode;
        [MarshalAs(UnmanagedType.I1)] private bool deliveryDisabled;
#pragma warning restore 0649

        /// <summary>Messages delivered.</summary>
        public ulong Sent { get { return sent; } }
        /// <summary>Messages that failed for now and will be retried after the back-off.</summary>
        public ulong Deferred { get { return deferred; } }
        /// <summary>Messages that failed for good (5xx, or the attempt limit reached).</summary>
        public ulong Failed { get { return failed; } }
        /// <summary>True when Queue mode kept this client from delivering (Flush only).</summary>
        public bool HeldByMode { get { return heldByMode; } }
        /// <summary>True when EN_DeliveryEnabled is false, so nothing was sent.</summary>
        public bool DeliveryDisabled { get { return deliveryDisabled; } }

        public override string ToString()
        {
            return string.Format("sent={0} deferred={1} failed={2} held_by_mode={3} delivery_disabled={4}",
                sent, deferred, failed, heldByMode, deliveryDisabled);
        }
    }
}
