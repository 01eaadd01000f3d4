using System.Text.RegularExpressions;

namespace EN.Notify.Tests
{
    /// <summary>
    /// Reads simple fields of the library's JSON output by pattern, enough for assertions on
    /// en_list/en_show results about one message. Not a parser.
    /// </summary>
    internal static class JsonFields
    {
        /// <summary>The first value of "name": a string unescaped, a number or literal as text.</summary>
        internal static string Get(string json, string name)
        {
            var m = Regex.Match(json, "\"" + Regex.Escape(name) +
                "\"\\s*:\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([-0-9.eE+]+|true|false|null))");
            if (!m.Success) throw new System.Exception("no field \"" + name + "\" in " + json);
            return m.Groups[1].Success ? Regex.Unescape(m.Groups[1].Value) : m.Groups[2].Value;
        }

        /// <summary>How many objects in json have the key name.</summary>
        internal static int Count(string json, string name)
        {
            return Regex.Matches(json, "\"" + Regex.Escape(name) + "\"\\s*:").Count;
        }
    }
}
