// An issue-tracker action hook in C#: at the end of a user's action it hands one notification to
// en-notify and flushes. Nothing is lost if the relay is down: the message waits in the queue
// for the next flush (of any client) or a delivery server.
//
//   mono Hook.exe --db PATH [--smtp HOST:PORT | --pickup DIR]
//
// Without --smtp the message is written as an .eml file into DIR (default: "pickup" beside the
// database), the way a desktop without a reachable relay can still be tested.
using System;
using System.Collections.Generic;
using System.IO;
using EN.Notify;

internal static class Hook
{
    private static int Main(string[] args)
    {
        Console.OutputEncoding = new System.Text.UTF8Encoding(false);
        Dictionary<string, string> flags = ParseFlags(args);
        string db;
        if (!flags.TryGetValue("--db", out db))
        {
            Console.Error.WriteLine("usage: Hook.exe --db PATH [--smtp HOST:PORT | --pickup DIR]");
            return 2;
        }

        var options = new Dictionary<string, string>();
        string smtp, pickup;
        if (flags.TryGetValue("--smtp", out smtp))
        {
            options["email_server"] = smtp;
        }
        else
        {
            if (!flags.TryGetValue("--pickup", out pickup))
                pickup = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(db)), "pickup");
            Directory.CreateDirectory(pickup);
            options["email_transport"] = "pickup";
            options["email_pickup_dir"] = pickup;
        }

        // What the tracker's notification rule produced for this action.
        const string subject = "Änderung: CR-42 — ready ✓";
        string message = "{" +
            "\"from\":\"tracker@example.com\"," +
            "\"to\":[\"dev-team@example.com\"]," +
            "\"subject\":" + Json.Quote(subject) + "," +
            "\"text\":" + Json.Quote("CR-42 moved to Ready by Zoë.\nhttps://tracker.example.com/CR-42") + "," +
            "\"html\":" + Json.Quote("<p>CR-42 moved to <b>Ready</b> by Zoë.</p>") + "," +
            "\"source\":\"Hook.cs\"}";

        try
        {
            using (Engine engine = Engine.Open(db, options))
            {
                long id = engine.Notify(message);
                Report report = engine.Flush();
                Console.WriteLine("notified {0} (message {1}); flush: {2}",
                    subject, id == 0 ? "sent at once" : id.ToString(), report);
            }
            return 0;
        }
        catch (ENException e)
        {
            Console.Error.WriteLine("en-notify failed ({0}): {1}", e.Code, e.Message);
            return 1;
        }
    }

    private static Dictionary<string, string> ParseFlags(string[] args)
    {
        var flags = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2) flags[args[i]] = args[i + 1];
        return flags;
    }
}
