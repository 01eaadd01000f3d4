namespace EN.Notify
{
    /// <summary>The en_delivery values a transport callback answers with.</summary>
    public enum DeliveryOutcome
    {
        Delivered = 1,
        RetryLater = 2,
        Failed = 3,
    }

    /// <summary>What a custom transport answers for one message: an outcome and a reason.</summary>
    public sealed class DeliveryResult
    {
        public DeliveryOutcome Outcome { get; }
        /// <summary>Recorded in the message's audit trail and last_error; may be empty.</summary>
        public string Reason { get; }

        private DeliveryResult(DeliveryOutcome outcome, string reason)
        {
            Outcome = outcome;
            Reason = reason ?? "";
        }

        /// <summary>Delivered to every recipient.</summary>
        public static readonly DeliveryResult Delivered = new DeliveryResult(DeliveryOutcome.Delivered, "");

        /// <summary>Not delivered now; uses up an attempt and retries after the back-off.</summary>
        public static DeliveryResult RetryLater(string reason)
        {
            return new DeliveryResult(DeliveryOutcome.RetryLater, reason);
        }

        /// <summary>Not deliverable; the message fails at once.</summary>
        public static DeliveryResult Failed(string reason)
        {
            return new DeliveryResult(DeliveryOutcome.Failed, reason);
        }
    }
}
