using System;

namespace NetCmdlets.Core.Framing;

/// <summary>Bytes break the framing's rules: received ones (a message too long, a broken prefix), or a payload it cannot frame for sending.</summary>
public sealed class FramingException : Exception
{
    public FramingException(string message) : base(message) { }
}
