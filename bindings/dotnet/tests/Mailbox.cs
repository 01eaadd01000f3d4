using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace EN.Notify.Tests
{
    /// <summary>What the SMTP test server received: DIR/*.eml with DIR/*.json envelopes.</summary>
    internal sealed class Mailbox
    {
        private readonly string folder;

        internal Mailbox(string folder) { this.folder = folder; }

        /// <summary>Received messages, oldest first (the server names them by time).</summary>
        internal List<Received> Messages()
        {
            return Directory.GetFiles(folder, "*.eml").OrderBy(p => p, StringComparer.Ordinal)
                .Select(p => new Received(p)).ToList();
        }
    }

    internal sealed class Received
    {
        internal readonly string Raw;
        internal readonly string Envelope;

        internal Received(string emlPath)
        {
            Raw = Encoding.UTF8.GetString(File.ReadAllBytes(emlPath));
            string envelopePath = Path.ChangeExtension(emlPath, ".json");
            Envelope = File.Exists(envelopePath) ? File.ReadAllText(envelopePath) : "";
        }

        /// <summary>The envelope's "to" addresses.</summary>
        internal string[] To
        {
            get
            {
                var list = Regex.Match(Envelope, "\"to\"\\s*:\\s*\\[([^\\]]*)\\]");
                return Regex.Matches(list.Groups[1].Value, "\"([^\"]*)\"").Cast<Match>()
                    .Select(m => m.Groups[1].Value).ToArray();
            }
        }

        /// <summary>The Subject header, unfolded and with RFC 2047 encoded-words decoded.</summary>
        internal string Subject
        {
            get
            {
                string headers = Regex.Split(Raw, "\r?\n\r?\n")[0];
                string unfolded = Regex.Replace(headers, "\r?\n(?=[ \t])", "");
                var m = Regex.Match(unfolded, "^Subject:[ \t]*(.*?)\r?$", RegexOptions.Multiline | RegexOptions.IgnoreCase);
                if (!m.Success) throw new Exception("no Subject header in:\n" + headers);
                return Rfc2047.Decode(m.Groups[1].Value);
            }
        }
    }

    /// <summary>Decodes =?charset?B|Q?...?= encoded-words; whitespace between adjacent ones is dropped.</summary>
    internal static class Rfc2047
    {
        private static readonly Regex Word = new Regex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=");

        internal static string Decode(string value)
        {
            var text = new StringBuilder();
            var pending = new List<byte>();
            Encoding charset = null;
            int position = 0;
            foreach (Match m in Word.Matches(value))
            {
                string between = value.Substring(position, m.Index - position);
                Encoding encoding = Encoding.GetEncoding(m.Groups[1].Value);
                // Bytes of adjacent words decode together: a character may span two words.
                if (pending.Count == 0 || between.Trim().Length > 0 || !encoding.Equals(charset))
                {
                    Flush(text, pending, charset);
                    text.Append(between);
                }
                charset = encoding;
                pending.AddRange(m.Groups[2].Value.ToUpperInvariant() == "B"
                    ? Convert.FromBase64String(m.Groups[3].Value)
                    : DecodeQ(m.Groups[3].Value));
                position = m.Index + m.Length;
            }
            Flush(text, pending, charset);
            return text.Append(value.Substring(position)).ToString();
        }

        private static void Flush(StringBuilder text, List<byte> pending, Encoding charset)
        {
            if (pending.Count == 0) return;
            text.Append(charset.GetString(pending.ToArray()));
            pending.Clear();
        }

        private static byte[] DecodeQ(string q)
        {
            var bytes = new List<byte>();
            for (int i = 0; i < q.Length; i++)
            {
                if (q[i] == '_') bytes.Add(0x20);
                else if (q[i] == '=' && i + 2 < q.Length)
                {
                    bytes.Add(Convert.ToByte(q.Substring(i + 1, 2), 16));
                    i += 2;
                }
                else bytes.Add((byte)q[i]);
            }
            return bytes.ToArray();
        }
    }
}
