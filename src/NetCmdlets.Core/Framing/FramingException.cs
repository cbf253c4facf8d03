using System;

namespace NetCmdlets.Core.Framing;

/// <summary>Which rule of a framing some bytes broke; with the framing's name it makes the error id (FramingError.LengthPrefixed.MessageTooLong).</summary>
public enum FramingRule
{
    /// <summary>A message longer than the maximum, or that much data without its end (a line feed, a delimiter).</summary>
    MessageTooLong,

    /// <summary>The stream ended inside a message.</summary>
    Truncated,

    /// <summary>A length prefix or count that no valid message has (not digits, shorter than its own prefix).</summary>
    InvalidLength,

    /// <summary>A payload to send that the framing cannot carry (too long for its prefix, not the fixed size).</summary>
    CannotFrame,

    /// <summary>A JSON line that is not valid JSON.</summary>
    InvalidJson,
}

/// <summary>Bytes break the framing's rules: received ones (a message too long, a broken prefix), or a payload it cannot frame for sending.</summary>
public sealed class FramingException : Exception
{
    public FramingException(string framing, FramingRule rule, string message, Exception? inner = null) : base(message, inner)
    {
        Framing = framing;
        Rule = rule;
    }

    /// <summary>The framing's name, as users choose it (Line, LengthPrefixed, Json).</summary>
    public string Framing { get; }

    public FramingRule Rule { get; }

    /// <summary>The error id that names the framing and the rule: FramingError.Line.MessageTooLong.</summary>
    public string ErrorId => $"FramingError.{Framing}.{Rule}";

    /// <summary>
    /// A message over the maximum: <paramref name="what"/> ("a line of 2,000,000 bytes"), the limit, and the
    /// parameter that sets it, so whoever reads the error knows what to raise.
    /// </summary>
    public static FramingException TooLong(string framing, string what, int maxMessageLength) =>
        new(framing, FramingRule.MessageTooLong,
            $"{framing}: {what} exceeds the maximum message length of {maxMessageLength:N0} bytes{InUnits(maxMessageLength)} (set by -MaxMessageLength).");

    private static string InUnits(int bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $" ({bytes >> 20} MiB)"
        : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? $" ({bytes >> 10} KiB)"
        : string.Empty;
}
