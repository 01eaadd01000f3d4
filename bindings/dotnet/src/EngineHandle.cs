using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace EN.Notify
{
    /// <summary>Owns one en_engine pointer; closing it (or finalizing it) calls en_close.</summary>
    internal sealed class EngineHandle : SafeHandle
    {
        // Every callback delegate ever installed on this engine. A flush running on another thread
        // may still call a transport that was just replaced, so none is dropped before en_close.
        private readonly List<Delegate> callbacks = new List<Delegate>();

        private EngineHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        internal void KeepAlive(Delegate callback)
        {
            lock (callbacks) callbacks.Add(callback);
        }

        protected override bool ReleaseHandle()
        {
            return Native.en_close(handle) == (int)ResultCode.Ok;
        }
    }
}
