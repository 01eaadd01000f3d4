using System;
using System.Runtime.InteropServices;
using System.Text;

namespace EN.Notify
{
    /// <summary>UTF-8 both ways across the ABI; netstandard2.0 has no PtrToStringUTF8.</summary>
    internal static class Utf8
    {
        // Throws on a lone surrogate instead of silently writing U+FFFD.
        private static readonly Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// NUL-terminated UTF-8 bytes, or null (a NULL pointer) for null. A string C cannot carry
        /// intact (an embedded NUL would cut it, a lone surrogate has no UTF-8 form) throws
        /// ENException(InvalidArgument) naming the argument, before anything reaches the library.
        /// </summary>
        internal static byte[] ToNative(string s, string argument)
        {
            if (s == null) return null;
            int nul = s.IndexOf('\0');
            if (nul >= 0)
                throw new ENException(ResultCode.InvalidArgument,
                    argument + " contains a NUL character at index " + nul + ", which a C string cannot carry");
            try
            {
                var bytes = new byte[Strict.GetByteCount(s) + 1];
                Strict.GetBytes(s, 0, s.Length, bytes, 0);
                return bytes;
            }
            catch (EncoderFallbackException e)
            {
                throw new ENException(ResultCode.InvalidArgument,
                    argument + " contains a lone UTF-16 surrogate at index " + e.Index + ", which has no UTF-8 form");
            }
        }

        /// <summary>Copies a NUL-terminated UTF-8 string the caller does not own; null for NULL.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int length = 0;
            while (Marshal.ReadByte(p, length) != 0) length++;
            var bytes = new byte[length];
            Marshal.Copy(p, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Copies a string the library allocated, then frees it with en_string_free.</summary>
        internal static string TakeOwned(IntPtr p)
        {
            try { return FromNative(p); }
            finally { Native.en_string_free(p); }
        }

        /// <summary>Writes s into a C buffer of the given capacity, cut at a character boundary.</summary>
        internal static void WriteTruncated(string s, IntPtr buffer, int capacity)
        {
            if (buffer == IntPtr.Zero || capacity <= 0) return;
            byte[] bytes = Encoding.UTF8.GetBytes(s ?? "");
            int length = Math.Min(bytes.Length, capacity - 1);
            // Never end on half a character: back up over UTF-8 continuation bytes.
            while (length > 0 && length < bytes.Length && (bytes[length] & 0xC0) == 0x80) length--;
            Marshal.Copy(bytes, 0, buffer, length);
            Marshal.WriteByte(buffer, length, 0);
        }
    }
}
