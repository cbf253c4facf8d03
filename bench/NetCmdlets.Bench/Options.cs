using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;

namespace NetCmdlets.Bench;

/// <summary>`--name value` pairs; every option has a default, so a typo is an error rather than ignored.</summary>
public sealed class Options
{
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "host", "port", "connections", "seconds", "warmup", "size", "count", "concurrency", "hold-seconds", "timeout-sec", "inline-completions", "framing", "cert", "password",
        "senders", "first-port", "last-port", "sources", "window", "unix",
    };

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args, int start)
    {
        var options = new Options();
        for (int i = start; i < args.Length; i += 2)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !s_known.Contains(name.Substring(2)))
                throw new ArgumentException($"unknown option '{name}'");
            if (i + 1 >= args.Length) throw new ArgumentException($"option '{name}' needs a value");
            options._values[name.Substring(2)] = args[i + 1];
        }
        return options;
    }

    public IPAddress Host => IPAddress.Parse(Get("host", "127.0.0.1"));

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public double Double(string name, double fallback) => double.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public string Text(string name, string fallback) => Get(name, fallback);

    private string Get(string name, string fallback) => _values.TryGetValue(name, out string? value) ? value : fallback;
}
