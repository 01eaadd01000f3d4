using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace EN.Notify.Tests
{
    /// <summary>The project's aiosmtpd test server (tests/servers/smtp_server.py) as a child process.</summary>
    internal sealed class SmtpServer : IDisposable
    {
        private readonly Process process;
        private readonly StringBuilder log = new StringBuilder();
        internal readonly int Port;
        internal readonly Mailbox Mailbox;

        internal SmtpServer(string folder, params string[] flags)
        {
            Directory.CreateDirectory(folder);
            var start = new ProcessStartInfo("python3")
            {
                Arguments = Quote(Script()) + " --dir " + Quote(folder) + " " + string.Join(" ", flags),
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            process = Process.Start(start);
            // Kept for the error message only; aiosmtpd's deprecation warnings would drown the output.
            process.ErrorDataReceived += (sender, line) => { lock (log) log.AppendLine(line.Data); };
            process.BeginErrorReadLine();
            Task<string> ready = process.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(20)) || ready.Result == null || !ready.Result.StartsWith("READY "))
            {
                Dispose();
                lock (log)
                    throw new Exception("SMTP server did not start (" + (ready.IsCompleted ? ready.Result : "timeout") +
                        "):\n" + log);
            }
            Port = int.Parse(ready.Result.Substring("READY ".Length).Trim());
            Mailbox = new Mailbox(folder);
        }

        internal string Address { get { return "127.0.0.1:" + Port; } }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit();
            process.Dispose();
        }

        // The script lives in the repository: found from the current folder upwards.
        private static string Script()
        {
            for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
            {
                string path = Path.Combine(dir.FullName, "tests", "servers", "smtp_server.py");
                if (File.Exists(path)) return path;
            }
            throw new Exception("tests/servers/smtp_server.py not found above " + Directory.GetCurrentDirectory());
        }

        private static string Quote(string argument)
        {
            return "\"" + argument.Replace("\"", "\\\"") + "\"";
        }
    }
}
