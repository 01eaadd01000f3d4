using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EN.Notify
{
    /// <summary>
    /// The little JSON writing netstandard2.0 lacks: enough to pass options and to build a message
    /// by hand. Non-ASCII text stays as is (the library reads UTF-8).
    /// </summary>
    public static class Json
    {
        /// <summary>A JSON string literal, quotes included; "null" for null.</summary>
        public static string Quote(string s)
        {
            if (s == null) return "null";
            var sb = new StringBuilder(s.Length + 2).Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary>A JSON object of string values; null for a null dictionary.</summary>
        public static string Object(IDictionary<string, string> values)
        {
            if (values == null) return null;
            var sb = new StringBuilder("{");
            foreach (var pair in values)
            {
                if (sb.Length > 1) sb.Append(',');
                sb.Append(Quote(pair.Key)).Append(':').Append(Quote(pair.Value));
            }
            return sb.Append('}').ToString();
        }
    }
}
