using System;
using System.Runtime.InteropServices;

namespace EN.Notify
{
    /// <summary>Turns a .NET transport function into an en_transport_fn.</summary>
    internal static class TransportBridge
    {
        internal static Native.TransportFn Wrap(Func<string, string[], byte[], DeliveryResult> transport)
        {
            return (userData, from, recipients, message, length, reason, capacity) =>
                Deliver(transport, from, recipients, message, length, reason, capacity);
        }

        private static int Deliver(Func<string, string[], byte[], DeliveryResult> transport,
            IntPtr from, IntPtr recipients, IntPtr message, UIntPtr length, IntPtr reason, UIntPtr capacity)
        {
            int reasonCapacity = (int)Math.Min((ulong)capacity, int.MaxValue);
            // No exception may unwind into the library: any failure here means "retry later".
            try
            {
                var bytes = new byte[checked((int)(ulong)length)];
                if (bytes.Length > 0) Marshal.Copy(message, bytes, 0, bytes.Length);
                string[] to = (Utf8.FromNative(recipients) ?? "")
                    .Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
                DeliveryResult result = transport(Utf8.FromNative(from), to, bytes);
                Utf8.WriteTruncated(result.Reason, reason, reasonCapacity);
                return (int)result.Outcome;
            }
            catch (Exception e)
            {
                try { Utf8.WriteTruncated(e.Message, reason, reasonCapacity); }
                catch (Exception) { /* the reason is optional; the answer below is not */ }
                return (int)DeliveryOutcome.RetryLater;
            }
        }
    }
}
