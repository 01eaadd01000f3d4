using System;
using System.Collections.Generic;

namespace EN.Notify
{
    /// <summary>
    /// A delivery engine over one queue database. Thread-safe: one Engine may be used from any
    /// number of threads at once. Every failure throws <see cref="ENException"/>, also a string
    /// argument with an embedded NUL or a lone surrogate (InvalidArgument; nothing is passed on).
    /// Any call after Dispose throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public sealed class Engine : IDisposable
    {
        private readonly EngineHandle handle;
        // SafeHandle alone still hands out references after Dispose while other calls hold one,
        // so calls that keep overlapping would keep a disposed engine open forever.
        private volatile bool disposed;

        private Engine(EngineHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>The native library's version.</summary>
        public static string Version
        {
            get { return Utf8.FromNative(Native.en_version()); }
        }

        /// <summary>
        /// Opens (creating if needed) the queue database at dbPath. options are property overrides
        /// for this process only, e.g. { "email_server", "127.0.0.1:2525" }.
        /// </summary>
        public static Engine Open(string dbPath, IDictionary<string, string> options = null)
        {
            EngineHandle handle;
            int code = Native.en_open(Utf8.ToNative(dbPath, "dbPath"), Utf8.ToNative(Json.Object(options), "options"), out handle);
            if (code != (int)ResultCode.Ok)
            {
                // Read the error before disposing: en_close would overwrite it.
                try { ENException.Check(code); }
                finally { if (handle != null) handle.Dispose(); }
            }
            return new Engine(handle);
        }

        /// <summary>Validates and hands over one message (JSON); returns its id, 0 when Light mode sent it.</summary>
        public long Notify(string messageJson)
        {
            byte[] message = Utf8.ToNative(messageJson, "messageJson");
            long id = 0;
            Call(engine => Native.en_notify(engine, message, out id));
            return id;
        }

        /// <summary>Delivers every eligible message; in Queue mode nothing, with HeldByMode set.</summary>
        public Report Flush()
        {
            var report = new Report();
            Call(engine => Native.en_flush(engine, out report));
            return report;
        }

        /// <summary>Delivers every eligible message whatever the mode: for delivery servers.</summary>
        public Report Drain()
        {
            var report = new Report();
            Call(engine => Native.en_drain(engine, out report));
            return report;
        }

        /// <summary>Delivers one message now, whatever its attempts, back-off or status.</summary>
        public Report Resend(long id)
        {
            var report = new Report();
            Call(engine => Native.en_resend(engine, id, out report));
            return report;
        }

        /// <summary>Stores the delivery mode for every client of this database.</summary>
        public void SetMode(DeliveryMode mode)
        {
            byte[] name = Utf8.ToNative(mode.ToString(), "mode");
            Call(engine => Native.en_set_mode(engine, name));
        }

        /// <summary>Sets a message's attempts to 0 and makes it eligible now.</summary>
        public void ResetAttempts(long id)
        {
            Call(engine => Native.en_reset_attempts(engine, id));
        }

        /// <summary>Removes "sent", "failed" or "all" finished messages older than the given age; returns how many.</summary>
        public ulong Purge(string status, ulong olderThanSeconds)
        {
            byte[] which = Utf8.ToNative(status, "status");
            ulong removed = 0;
            Call(engine => Native.en_purge(engine, which, olderThanSeconds, out removed));
            return removed;
        }

        /// <summary>The property's value in force, or null when it is unset and has no default.</summary>
        public string GetProperty(string name)
        {
            byte[] key = Utf8.ToNative(name, "name");
            IntPtr value = IntPtr.Zero;
            Call(engine => Native.en_get_property(engine, key, out value));
            return Utf8.TakeOwned(value);
        }

        /// <summary>Stores a property for every client; null removes it so its default applies.</summary>
        public void SetProperty(string name, string value)
        {
            byte[] key = Utf8.ToNative(name, "name");
            byte[] text = Utf8.ToNative(value, "value");
            Call(engine => Native.en_set_property(engine, key, text));
        }

        /// <summary>The queue as a JSON array, optionally only one status ("queued", "sending", "sent", "failed").</summary>
        public string List(string status = null)
        {
            byte[] which = Utf8.ToNative(status, "status");
            return CallForString((IntPtr engine, out IntPtr json) => Native.en_list(engine, which, out json));
        }

        /// <summary>One message as a JSON object, with "attempt_log" and "raw".</summary>
        public string Show(long id)
        {
            return CallForString((IntPtr engine, out IntPtr json) => Native.en_show(engine, id, out json));
        }

        /// <summary>Counts by status and the oldest waiting message, as a JSON object.</summary>
        public string Status()
        {
            return CallForString(Native.en_status);
        }

        /// <summary>
        /// Delivers through transport (sender, recipients, raw RFC 5322 message) instead of SMTP or
        /// pickup; null goes back to the configured transport. It may be called from several threads
        /// at once. An exception it throws counts as RetryLater with the exception's message.
        /// </summary>
        public void SetTransport(Func<string, string[], byte[], DeliveryResult> transport)
        {
            Native.TransportFn callback = transport == null ? null : TransportBridge.Wrap(transport);
            if (callback != null) handle.KeepAlive(callback);
            Call(engine => Native.en_set_transport(engine, callback, IntPtr.Zero));
        }

        /// <summary>Closes the engine; calls already running on other threads finish first. Idempotent.</summary>
        public void Dispose()
        {
            disposed = true;
            handle.Dispose();
        }

        private delegate int StringCall(IntPtr engine, out IntPtr json);

        private string CallForString(StringCall call)
        {
            IntPtr json = IntPtr.Zero;
            Call(engine => call(engine, out json));
            return Utf8.TakeOwned(json);
        }

        // Holds a reference on the handle for the whole call, so a concurrent Dispose closes the
        // engine only afterwards, and copies en_last_error before anything else can touch it.
        private void Call(Func<IntPtr, int> call)
        {
            if (disposed) throw new ObjectDisposedException(typeof(Engine).FullName);
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                ENException.Check(call(handle.DangerousGetHandle()));
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
    }
}
