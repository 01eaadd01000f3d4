namespace EN.Notify
{
    /// <summary>EN_DeliveryMode: who delivers, and when (see the project's DESIGN.md).</summary>
    public enum DeliveryMode
    {
        /// <summary>Notify stores; Flush at the end of the user's action delivers.</summary>
        Deferred,
        /// <summary>Notify sends at once and stores only what failed for a transient reason.</summary>
        Light,
        /// <summary>Notify stores; only delivery servers (Drain) deliver.</summary>
        Queue,
    }
}
