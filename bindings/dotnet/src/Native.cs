using System;
using System.Runtime.InteropServices;

namespace EN.Notify
{
    /// <summary>The C ABI of include/en_notify.h, one declaration per function.</summary>
    /// <remarks>
    /// "en_notify" resolves to en_notify.dll on Windows and liben_notify.so on Linux, both in .NET
    /// and in Mono. Cdecl everywhere, because 32-bit Windows clients exist. Strings go in as
    /// NUL-terminated UTF-8 byte arrays (see <see cref="Utf8"/>), never as ANSI strings; strings the
    /// library returns come back as IntPtr. Engine calls take the raw pointer, so that
    /// <see cref="Engine"/> can read en_last_error before the handle's reference is released.
    /// </remarks>
    internal static class Native
    {
        private const string Library = "en_notify";

        /// <summary>en_transport_fn.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int TransportFn(IntPtr userData, IntPtr from, IntPtr recipients,
            IntPtr message, UIntPtr messageLength, IntPtr reason, UIntPtr reasonCapacity);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr en_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr en_last_error();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void en_string_free(IntPtr s);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_open(byte[] dbPath, byte[] optionsJson, out EngineHandle engine);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_close(IntPtr engine);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_notify(IntPtr engine, byte[] messageJson, out long id);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_flush(IntPtr engine, out Report report);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_drain(IntPtr engine, out Report report);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_set_mode(IntPtr engine, byte[] mode);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_resend(IntPtr engine, long id, out Report report);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_reset_attempts(IntPtr engine, long id);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_purge(IntPtr engine, byte[] status, ulong olderThanSeconds,
            out ulong removed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_get_property(IntPtr engine, byte[] name, out IntPtr value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_set_property(IntPtr engine, byte[] name, byte[] value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_list(IntPtr engine, byte[] status, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_show(IntPtr engine, long id, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_status(IntPtr engine, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int en_set_transport(IntPtr engine, TransportFn callback, IntPtr userData);
    }
}
