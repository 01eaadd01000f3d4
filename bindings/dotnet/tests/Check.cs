using System;

namespace EN.Notify.Tests
{
    /// <summary>Assertions that throw with what was expected and what came.</summary>
    internal static class Check
    {
        internal static void Equal<T>(T expected, T actual, string what)
        {
            if (!Equals(expected, actual))
                throw new Exception(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
        }

        internal static void True(bool condition, string what)
        {
            if (!condition) throw new Exception(what);
        }

        internal static T Throws<T>(Action action, string what) where T : Exception
        {
            try { action(); }
            catch (T e) { return e; }
            catch (Exception e) { throw new Exception(what + ": expected " + typeof(T).Name + ", got " + e); }
            throw new Exception(what + ": expected " + typeof(T).Name + ", nothing was thrown");
        }
    }
}
