using System;

namespace NetCmdlets.Core.Framing;

/// <summary>The received bytes break the framing rules (a message too long, a broken prefix).</summary>
public sealed class FramingException : Exception
{
    public FramingException(string message) : base(message) { }
}
