using System;

namespace EN.Notify
{
    /// <summary>A call into en-notify failed: the result code and the library's text.</summary>
    public class ENException : Exception
    {
        /// <summary>The en_result code. A code newer than this binding keeps its number.</summary>
        public ResultCode Code { get; }

        public ENException(ResultCode code, string message) : base(message)
        {
            Code = code;
        }

        /// <summary>Throws for any code but Ok, with en_last_error copied at once.</summary>
        internal static void Check(int code)
        {
            if (code == (int)ResultCode.Ok) return;
            throw new ENException((ResultCode)code, Utf8.FromNative(Native.en_last_error()));
        }
    }
}
