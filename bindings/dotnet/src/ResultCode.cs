namespace EN.Notify
{
    /// <summary>The en_result codes of the C ABI, with the same numbers.</summary>
    public enum ResultCode
    {
        Ok = 0,
        NullArgument = 1,
        InvalidUtf8 = 2,
        InvalidJson = 3,
        InvalidMessage = 4,
        MessageTooLarge = 5,
        InvalidProperty = 6,
        InvalidMode = 7,
        InvalidArgument = 8,
        NotFound = 9,
        Store = 10,
        Config = 11,
        Busy = 12,
        InvalidHandle = 13,
        Panic = 14,
    }
}
