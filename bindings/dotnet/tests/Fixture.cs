using System;
using System.Collections.Generic;
using System.IO;

namespace EN.Notify.Tests
{
    /// <summary>One test's world: a fresh temp folder for the database, and the servers it started.</summary>
    internal sealed class Fixture : IDisposable
    {
        internal readonly string Folder;
        private readonly List<IDisposable> owned = new List<IDisposable>();

        internal Fixture()
        {
            Folder = Path.Combine(Path.GetTempPath(), "en-notify-dotnet-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Folder);
        }

        internal string DbPath { get { return Path.Combine(Folder, "queue.sqlite"); } }

        internal SmtpServer StartServer(params string[] flags)
        {
            var server = new SmtpServer(Path.Combine(Folder, "mail-" + owned.Count), flags);
            owned.Add(server);
            return server;
        }

        /// <summary>An engine relaying to server, with retries allowed at once.</summary>
        internal Engine Open(SmtpServer server)
        {
            var options = new Dictionary<string, string> { { "EN_RetryBackoff", "0s" } };
            if (server != null) options["email_server"] = server.Address;
            var engine = Engine.Open(DbPath, options);
            owned.Add(engine);
            return engine;
        }

        public void Dispose()
        {
            foreach (var o in owned) o.Dispose();
            Directory.Delete(Folder, true);
        }
    }
}
