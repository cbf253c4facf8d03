using System;

namespace NetCmdlets.Core.Framing;

/// <summary>No framing at all: every chunk the network delivers is one message, exactly as it came, and payloads go out unchanged.</summary>
public sealed class RawFramer : IMessageFramer
{
    /// <summary>It keeps no state, so one serves every connection.</summary>
    internal static readonly RawFramer Shared = new();

    public int MaxMessageLength => int.MaxValue;

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        message = input;
        consumed = input.Count;
        return input.Count > 0;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message) => TryRead(input, out message, out _);

    public void Reset()
    {
    }

    public byte[] Encode(ArraySegment<byte> payload)
    {
        if (payload.Offset == 0 && payload.Count == payload.Array!.Length) return payload.Array;
        var copy = new byte[payload.Count];
        Buffer.BlockCopy(payload.Array!, payload.Offset, copy, 0, payload.Count);
        return copy;
    }
}
