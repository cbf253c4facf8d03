using System;

namespace NetCmdlets.Core.Framing;

/// <summary>Every message is exactly the same number of bytes.</summary>
public sealed class FixedLengthFramer : IMessageFramer
{
    public FixedLengthFramer(int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "A fixed-size message has at least one byte.");
        MaxMessageLength = size;
    }

    /// <summary>The size of every message.</summary>
    public int MaxMessageLength { get; }

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        if (input.Count < MaxMessageLength)
        {
            message = default;
            consumed = 0;
            return false;
        }
        message = new ArraySegment<byte>(input.Array!, input.Offset, MaxMessageLength);
        consumed = MaxMessageLength;
        return true;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        message = default;
        if (input.Count == 0) return false;
        throw new FramingException("Fixed", FramingRule.Truncated, $"Fixed: the stream ended after {input.Count} of a message's {MaxMessageLength} bytes.");
    }

    public void Reset()
    {
    }

    public byte[] Encode(ArraySegment<byte> payload)
    {
        if (payload.Count != MaxMessageLength)
            throw new FramingException("Fixed", FramingRule.CannotFrame, $"Fixed: a message has {MaxMessageLength} bytes; this one has {payload.Count}.");
        var copy = new byte[payload.Count];
        Buffer.BlockCopy(payload.Array!, payload.Offset, copy, 0, payload.Count);
        return copy;
    }
}
