using System;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// Each message is an unsigned length of 1, 2, 4 or 8 bytes, big or little endian, then the payload.
/// The length may count the prefix itself. It is checked against the maximum as soon as the prefix
/// is there, before any of the payload is held.
/// </summary>
public sealed class LengthPrefixedFramer : IMessageFramer
{
    public LengthPrefixedFramer(int prefixLength = 4, bool bigEndian = true, bool includesPrefix = false, int maxMessageLength = LineFramer.DefaultMaxMessageLength)
    {
        if (prefixLength is not (1 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(prefixLength), "The length prefix is 1, 2, 4 or 8 bytes.");
        if (maxMessageLength < 0) throw new ArgumentOutOfRangeException(nameof(maxMessageLength));
        PrefixLength = prefixLength;
        BigEndian = bigEndian;
        IncludesPrefix = includesPrefix;
        MaxMessageLength = maxMessageLength;
    }

    public int PrefixLength { get; }

    public bool BigEndian { get; }

    /// <summary>True when the length counts the prefix too (the whole frame), false when only the payload.</summary>
    public bool IncludesPrefix { get; }

    public int MaxMessageLength { get; }

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        message = default;
        consumed = 0;
        if (input.Count < PrefixLength) return false;
        int payload = PayloadLength(input);
        if (input.Count - PrefixLength < payload) return false;
        message = new ArraySegment<byte>(input.Array!, input.Offset + PrefixLength, payload);
        consumed = PrefixLength + payload;
        return true;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        message = default;
        if (input.Count == 0) return false;
        if (input.Count < PrefixLength)
            throw new FramingException("LengthPrefixed", FramingRule.Truncated, $"LengthPrefixed: the stream ended inside a {PrefixLength}-byte length prefix ({input.Count} byte(s) of it).");
        int payload = PayloadLength(input);
        throw new FramingException("LengthPrefixed", FramingRule.Truncated, $"LengthPrefixed: the stream ended after {input.Count - PrefixLength} of {payload} payload bytes.");
    }

    public void Reset()
    {
    }

    public byte[] Encode(ArraySegment<byte> payload)
    {
        ulong length = (ulong)payload.Count + (IncludesPrefix ? (ulong)PrefixLength : 0);
        if (PrefixLength < 8 && length >> (PrefixLength * 8) != 0)
            throw new FramingException("LengthPrefixed", FramingRule.CannotFrame, $"LengthPrefixed: a message of {payload.Count} bytes does not fit a {PrefixLength}-byte length prefix.");
        var framed = new byte[PrefixLength + payload.Count];
        for (int i = 0; i < PrefixLength; i++)
        {
            int shift = 8 * (BigEndian ? PrefixLength - 1 - i : i);
            framed[i] = (byte)(length >> shift);
        }
        Buffer.BlockCopy(payload.Array!, payload.Offset, framed, PrefixLength, payload.Count);
        return framed;
    }

    /// <exception cref="FramingException">The length is impossible or over the maximum.</exception>
    private int PayloadLength(ArraySegment<byte> input)
    {
        ulong length = 0;
        for (int i = 0; i < PrefixLength; i++)
        {
            int shift = 8 * (BigEndian ? PrefixLength - 1 - i : i);
            length |= (ulong)input.Array![input.Offset + i] << shift;
        }
        if (IncludesPrefix)
        {
            if (length < (ulong)PrefixLength)
                throw new FramingException("LengthPrefixed", FramingRule.InvalidLength, $"LengthPrefixed: a length of {length} is shorter than its own {PrefixLength}-byte prefix.");
            length -= (ulong)PrefixLength;
        }
        if (length > (ulong)MaxMessageLength)
            throw FramingException.TooLong("LengthPrefixed", $"a message of {length:N0} bytes", MaxMessageLength);
        return (int)length;
    }
}
