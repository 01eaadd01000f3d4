using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace EN.Notify.Tests
{
    /// <summary>
    /// The binding's tests, against the real library, a real SQLite file and the aiosmtpd server.
    /// Run from inside the repository (run-tests does): it prints one line per test and a summary.
    /// </summary>
    internal static class Tests
    {
        private const string Subject = "Änderung: CR-42 — ready ✓";
        private static int passed, failed;

        private static int Main()
        {
            Console.OutputEncoding = new System.Text.UTF8Encoding(false);
            Console.WriteLine("en-notify " + Engine.Version);
            Run("every mode delivers a UTF-8 subject, text and HTML", EveryModeDeliversUtf8);
            Run("a bad message throws InvalidMessage and stores nothing", BadMessagesAreRejected);
            Run("a string with a NUL throws InvalidArgument and passes nothing", EmbeddedNulIsRejected);
            Run("a lone surrogate throws InvalidArgument and passes nothing", LoneSurrogateIsRejected);
            Run("a delegate transport retries, then delivers", DelegateRetriesThenDelivers);
            Run("a throwing delegate leaves the message queued with its text", ThrowingDelegateRetries);
            Run("a delegate answering Failed fails the message; null restores SMTP", FailingDelegateFails);
            Run("a 550 recipient fails; resend, reset and purge", RejectedRecipientAndAdministration);
            Run("four tasks notify on one engine at once", ConcurrentNotify);
            Run("dispose twice, use after dispose", DisposeTwiceAndUseAfterDispose);
            Run("properties read and write UTF-8, null when unset; delivery disabled", Properties);
            Run("examples/Hook.cs delivers over SMTP", HookDeliversOverSmtp);
            Run("examples/Hook.cs writes a pickup file", HookWritesPickupFile);
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 ? 0 : 1;
        }

        private static void Run(string name, Action<Fixture> test)
        {
            try
            {
                using (var fixture = new Fixture()) test(fixture);
                passed++;
                Console.WriteLine("ok   - " + name);
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine("FAIL - " + name + ": " + e);
            }
        }

        private static string Message(string to, string subject)
        {
            return "{\"from\":\"tracker@example.com\",\"to\":[" + Json.Quote(to) + "]," +
                "\"subject\":" + Json.Quote(subject) + "," +
                "\"text\":\"CR-42 is ready for review.\"," +
                "\"html\":\"<p>CR-42 is <b>ready</b> for review.</p>\"}";
        }

        private static void EveryModeDeliversUtf8(Fixture f)
        {
            var server = f.StartServer();
            var engine = f.Open(server);
            foreach (DeliveryMode mode in new[] { DeliveryMode.Deferred, DeliveryMode.Light, DeliveryMode.Queue })
            {
                string to = mode.ToString().ToLowerInvariant() + "@example.com";
                engine.SetMode(mode);
                long id = engine.Notify(Message(to, Subject));
                Check.Equal(mode == DeliveryMode.Light, id == 0, mode + ": id 0 means sent at once");
                Report flush = engine.Flush();
                Check.Equal(mode == DeliveryMode.Deferred ? 1UL : 0UL, flush.Sent, mode + ": flush sent");
                Check.Equal(mode == DeliveryMode.Queue, flush.HeldByMode, mode + ": held by mode");
                if (mode == DeliveryMode.Queue)
                    Check.Equal(1UL, engine.Drain().Sent, "Queue: drain sent");

                var received = server.Mailbox.Messages();
                Check.Equal((int)mode + 1, received.Count, mode + ": messages received so far");
                Received last = received.Last();
                Check.Equal(to, string.Join(",", last.To), mode + ": envelope recipients");
                Check.Equal(Subject, last.Subject, mode + ": decoded subject");
                Check.True(last.Raw.Contains("multipart/alternative") && last.Raw.Contains("text/html"),
                    mode + ": text and HTML parts in\n" + last.Raw);
            }
        }

        private static void BadMessagesAreRejected(Fixture f)
        {
            var engine = f.Open(null);
            var none = Check.Throws<ENException>(() => engine.Notify(
                "{\"from\":\"tracker@example.com\",\"to\":[],\"subject\":\"x\",\"text\":\"y\"}"), "no recipient");
            Check.Equal(ResultCode.InvalidMessage, none.Code, "no recipient: code");
            Check.True(none.Message.Contains("no recipient"), "no recipient: library text, got " + none.Message);

            var crlf = Check.Throws<ENException>(() => engine.Notify(
                Message("dev@example.com", "ready\r\nBcc: evil@example.com")), "CR/LF subject");
            Check.Equal(ResultCode.InvalidMessage, crlf.Code, "CR/LF subject: code");
            Check.True(crlf.Message.Contains("CR or LF"), "CR/LF subject: library text, got " + crlf.Message);

            Check.Equal("[]", engine.List().Trim(), "nothing stored");
        }

        // C would cut the string at the NUL and act on the prefix.
        private static void EmbeddedNulIsRejected(Fixture f)
        {
            var engine = f.Open(null);
            CheckRejected(() => engine.SetProperty("email_from", "a@example.com\0 evil"), "value", "NUL");
            CheckRejected(() => engine.SetProperty("email_from\0x", "a@example.com"), "name", "NUL");
            CheckRejected(() => engine.Notify(Message("dev@example.com", Subject) + "\0garbage"), "messageJson", "NUL");
            CheckRejected(() => engine.List("queued\0"), "status", "NUL");
            Check.Equal(null, engine.GetProperty("email_from"), "email_from still unset");
            Check.Equal("[]", engine.List().Trim(), "nothing stored");
        }

        // The default encoder would send U+FFFD in its place.
        private static void LoneSurrogateIsRejected(Fixture f)
        {
            var engine = f.Open(null);
            CheckRejected(() => engine.SetProperty("email_login", "zo\uD800ë"), "value", "surrogate");
            CheckRejected(() => engine.Notify(Message("dev@example.com", "ready \uDC00")), "messageJson", "surrogate");
            Check.Equal(null, engine.GetProperty("email_login"), "email_login still unset");
            Check.Equal("[]", engine.List().Trim(), "nothing stored");
        }

        private static void CheckRejected(Action call, string argument, string what)
        {
            var e = Check.Throws<ENException>(call, argument + " with a " + what);
            Check.Equal(ResultCode.InvalidArgument, e.Code, argument + " with a " + what + ": code");
            Check.True(e.Message.StartsWith(argument + " ") && e.Message.Contains(what),
                argument + " with a " + what + ": message names both, got " + e.Message);
        }

        private static void DelegateRetriesThenDelivers(Fixture f)
        {
            var engine = f.Open(null);
            var calls = new List<string>();
            engine.SetTransport((from, to, message) =>
            {
                int call;
                lock (calls)
                {
                    calls.Add(from + " -> " + string.Join(",", to) + " " + message.Length);
                    call = calls.Count;
                }
                return call == 1 ? DeliveryResult.RetryLater("relay busy — später") : DeliveryResult.Delivered;
            });
            long id = engine.Notify(Message("dev@example.com", Subject));

            Check.Equal(1UL, engine.Flush().Deferred, "first flush deferred");
            string first = engine.List();
            Check.Equal("queued", JsonFields.Get(first, "status"), "status after first flush");
            Check.Equal("1", JsonFields.Get(first, "attempts"), "attempts after first flush");
            Check.True(JsonFields.Get(first, "last_error").Contains("relay busy — später"), "reason kept: " + first);

            FlushUntilSent(engine);
            string shown = engine.Show(id);
            Check.Equal("sent", JsonFields.Get(shown, "status"), "status after second flush");
            Check.Equal("2", JsonFields.Get(shown, "attempts"), "attempts after second flush");
            Check.Equal(2, JsonFields.Count(shown, "outcome"), "attempt_log entries");
            Check.Equal(2, calls.Count, "transport calls");
            Check.True(calls[0].StartsWith("tracker@example.com -> dev@example.com "), "callback arguments: " + calls[0]);
        }

        // The engine waits at least 1 ms before a deferred message is eligible again.
        private static void FlushUntilSent(Engine engine)
        {
            var deadline = Stopwatch.StartNew();
            while (engine.Flush().Sent == 0)
                Check.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "no flush sent the message within 10 s");
        }

        private static void ThrowingDelegateRetries(Fixture f)
        {
            var engine = f.Open(null);
            engine.SetTransport((from, to, message) => { throw new InvalidOperationException("relay on fire ✓"); });
            long id = engine.Notify(Message("dev@example.com", Subject));
            Check.Equal(1UL, engine.Flush().Deferred, "flush deferred");
            string shown = engine.Show(id);
            Check.Equal("queued", JsonFields.Get(shown, "status"), "status");
            Check.True(JsonFields.Get(shown, "last_error").Contains("relay on fire ✓"), "exception text in last_error: " + shown);
        }

        private static void FailingDelegateFails(Fixture f)
        {
            var server = f.StartServer();
            var engine = f.Open(server);
            engine.SetTransport((from, to, message) => DeliveryResult.Failed("mailbox gone"));
            long id = engine.Notify(Message("dev@example.com", Subject));
            Check.Equal(1UL, engine.Flush().Failed, "flush failed");
            string shown = engine.Show(id);
            Check.Equal("failed", JsonFields.Get(shown, "status"), "status");
            Check.True(JsonFields.Get(shown, "last_error").Contains("mailbox gone"), "reason in last_error: " + shown);

            engine.SetTransport(null);
            Check.Equal(1UL, engine.Resend(id).Sent, "resent through the configured SMTP relay");
            Check.Equal(1, server.Mailbox.Messages().Count, "the relay received it");
        }

        private static void RejectedRecipientAndAdministration(Fixture f)
        {
            var server = f.StartServer("--reject", "gone@example.com");
            var engine = f.Open(server);
            long id = engine.Notify(Message("gone@example.com", Subject));
            Check.Equal(1UL, engine.Flush().Failed, "flush failed");
            string shown = engine.Show(id);
            Check.Equal("failed", JsonFields.Get(shown, "status"), "status");
            Check.Equal("550", JsonFields.Get(shown, "last_smtp_code"), "last_smtp_code");
            Check.Equal("1", JsonFields.Get(engine.Status(), "failed"), "status counts failed");

            Check.Equal(1UL, engine.Resend(id).Failed, "resend fails again");
            engine.ResetAttempts(id);
            Check.Equal("queued", JsonFields.Get(engine.Show(id), "status"), "reset queues it again");
            Check.Equal("0", JsonFields.Get(engine.Show(id), "attempts"), "reset attempts");
            Check.Equal(1UL, engine.Flush().Failed, "flush fails it again");

            // Purge takes what changed strictly before now (ms): poll until the clock has moved.
            var deadline = Stopwatch.StartNew();
            ulong removed;
            while ((removed = engine.Purge("failed", 0)) == 0)
                Check.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "purge removed nothing within 10 s");
            Check.Equal(1UL, removed, "purged");
            Check.Equal(ResultCode.NotFound, Check.Throws<ENException>(() => engine.Show(id), "show purged").Code, "purged code");
            Check.Equal(ResultCode.InvalidArgument, Check.Throws<ENException>(() => engine.Purge("everything", 0),
                "bad purge status").Code, "bad purge status code");
            Check.Equal(0, server.Mailbox.Messages().Count, "the server accepted nothing");
        }

        private static void ConcurrentNotify(Fixture f)
        {
            var engine = f.Open(null);
            var start = new ManualResetEventSlim();
            Task<long[]>[] tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                start.Wait();
                return Enumerable.Range(0, 25)
                    .Select(i => engine.Notify(Message("dev" + t + "@example.com", Subject + " #" + i))).ToArray();
            })).ToArray();
            start.Set();
            long[] ids = tasks.SelectMany(t => t.Result).ToArray();
            Check.Equal(100, ids.Distinct().Count(), "unique ids");
            Check.True(ids.All(id => id > 0), "ids are positive");
            Check.Equal(100, JsonFields.Count(engine.List("queued"), "id"), "queued messages");
        }

        private static void DisposeTwiceAndUseAfterDispose(Fixture f)
        {
            var engine = Engine.Open(f.DbPath);
            engine.Notify(Message("dev@example.com", Subject));
            engine.Dispose();
            engine.Dispose();
            Check.Throws<ObjectDisposedException>(() => engine.Notify(Message("dev@example.com", Subject)), "notify after dispose");
            Check.Throws<ObjectDisposedException>(() => engine.Flush(), "flush after dispose");
            Check.Throws<ObjectDisposedException>(() => engine.List(), "list after dispose");
            Check.Throws<ObjectDisposedException>(() => engine.SetTransport(null), "set transport after dispose");

            CallsRacingDisposeEndCleanly(f);
            using (var reopened = Engine.Open(f.DbPath))
                Check.True(JsonFields.Count(reopened.List(), "id") > 20, "the messages outlived the engine");
            var bad = Check.Throws<ENException>(() => Engine.Open(Path.Combine(f.Folder, "no", "such", "dir", "q.sqlite")),
                "open in a missing folder");
            Check.Equal(ResultCode.Store, bad.Code, "open error code (" + bad.Message + ")");
        }

        // Dispose while four tasks keep notifying: each call either completes or throws
        // ObjectDisposedException; the engine closes once the calls in flight are done.
        private static void CallsRacingDisposeEndCleanly(Fixture f)
        {
            var engine = Engine.Open(f.DbPath);
            int notified = 0;
            var deadline = Stopwatch.StartNew();
            Task[] tasks = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                while (deadline.Elapsed < TimeSpan.FromSeconds(10))
                {
                    engine.Notify(Message("race@example.com", Subject));
                    Interlocked.Increment(ref notified);
                }
            })).ToArray();
            while (Volatile.Read(ref notified) < 20)
                Check.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "racing tasks notified too little");
            engine.Dispose();
            foreach (var task in tasks)
            {
                var e = Check.Throws<AggregateException>(() => task.Wait(), "racing task");
                Check.True(e.InnerException is ObjectDisposedException, "racing task ended with " + e.InnerException);
            }
        }

        private static void Properties(Fixture f)
        {
            var engine = f.Open(null);
            Check.Equal(null, engine.GetProperty("email_login"), "unset property");
            Check.Equal("5", engine.GetProperty("EN_DeliveryAttempt"), "default");
            engine.SetProperty("EN_DeliveryAttempt", "3");
            Check.Equal("3", engine.GetProperty("en_deliveryattempt"), "stored, name in any case");
            engine.SetProperty("EN_DeliveryAttempt", null);
            Check.Equal("5", engine.GetProperty("EN_DeliveryAttempt"), "removed: default again");
            engine.SetProperty("email_login", "zoë-ü✓");
            Check.Equal("zoë-ü✓", engine.GetProperty("email_login"), "UTF-8 both ways");
            engine.Notify(Message("dev@example.com", Subject));
            engine.SetProperty("EN_DeliveryEnabled", "false");
            Report off = engine.Flush();
            Check.True(off.DeliveryDisabled && !off.HeldByMode && off.Sent == 0, "delivery disabled: " + off);
            var unknown = Check.Throws<ENException>(() => engine.SetProperty("EN_NoSuchThing", "1"), "unknown property");
            Check.Equal(ResultCode.InvalidProperty, unknown.Code, "unknown property code");
            Check.Equal(ResultCode.InvalidMode, Check.Throws<ENException>(() => engine.SetMode((DeliveryMode)7),
                "undefined mode").Code, "undefined mode code");
        }

        private static void HookDeliversOverSmtp(Fixture f)
        {
            var server = f.StartServer();
            string output = RunHook("--db", f.DbPath, "--smtp", server.Address);
            var received = server.Mailbox.Messages();
            Check.Equal(1, received.Count, "messages received; hook said: " + output);
            Check.True(received[0].Subject.Any(c => c > 127), "decoded subject is non-ASCII: " + received[0].Subject);
            Check.True(output.Contains(received[0].Subject), "hook printed the subject it sent: " + output);
        }

        private static void HookWritesPickupFile(Fixture f)
        {
            string pickup = Path.Combine(f.Folder, "pickup");
            string output = RunHook("--db", f.DbPath, "--pickup", pickup);
            Check.Equal(1, Directory.GetFiles(pickup, "*.eml").Length, "pickup files; hook said: " + output);
        }

        // Hook.exe is built next to this program by run-tests.
        private static string RunHook(params string[] args)
        {
            string exe = Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "Hook.exe");
            Check.True(File.Exists(exe), exe + " is not built");
            var start = new ProcessStartInfo("mono")
            {
                Arguments = "\"" + exe + "\" " + string.Join(" ", args.Select(a => "\"" + a + "\"")),
                UseShellExecute = false,
                RedirectStandardOutput = true,
                StandardOutputEncoding = System.Text.Encoding.UTF8,
            };
            using (var hook = Process.Start(start))
            {
                string output = hook.StandardOutput.ReadToEnd();
                hook.WaitForExit();
                Check.Equal(0, hook.ExitCode, "hook exit code; it said: " + output);
                return output;
            }
        }
    }
}
