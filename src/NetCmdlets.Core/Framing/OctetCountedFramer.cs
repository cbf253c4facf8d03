using System;
using System.Text;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// RFC 6587 octet counting, as syslog over TCP uses it: "MSG-LEN SP MSG", where MSG-LEN is the decimal
/// byte count of MSG (no leading zero). The count is checked against the maximum as soon as it is read.
/// </summary>
public sealed class OctetCountedFramer : IMessageFramer
{
    /// <summary>Digits a count may have: more than int.MaxValue is never a valid count.</summary>
    private const int MaxDigits = 10;

    public OctetCountedFramer(int maxMessageLength = LineFramer.DefaultMaxMessageLength)
    {
        if (maxMessageLength < 1) throw new ArgumentOutOfRangeException(nameof(maxMessageLength));
        MaxMessageLength = maxMessageLength;
    }

    public int MaxMessageLength { get; }

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        message = default;
        consumed = 0;
        if (!TryReadCount(input, out long count, out int header)) return false;
        if (input.Count - header < count) return false;
        message = new ArraySegment<byte>(input.Array!, input.Offset + header, (int)count);
        consumed = header + (int)count;
        return true;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        message = default;
        if (input.Count == 0) return false;
        if (!TryReadCount(input, out long count, out int header))
            throw new FramingException("OctetCounted", FramingRule.Truncated, $"OctetCounted: the stream ended inside a message length ({input.Count} byte(s) of it).");
        throw new FramingException("OctetCounted", FramingRule.Truncated, $"OctetCounted: the stream ended after {input.Count - header} of {count} message bytes.");
    }

    public void Reset()
    {
    }

    public byte[] Encode(ArraySegment<byte> payload)
    {
        // RFC 6587 counts start at 1: an empty message has no octet-counted form.
        if (payload.Count == 0) throw new FramingException("OctetCounted", FramingRule.CannotFrame, "OctetCounted: an empty message cannot be sent (a length starts at 1).");
        byte[] count = Encoding.ASCII.GetBytes(payload.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ");
        return FrameBytes.Join(count, payload, Array.Empty<byte>());
    }

    /// <returns>False when the count is not complete yet.</returns>
    /// <exception cref="FramingException">The bytes cannot start an octet-counted message.</exception>
    private bool TryReadCount(ArraySegment<byte> input, out long count, out int header)
    {
        count = 0;
        header = 0;
        byte[] array = input.Array!;
        for (int i = 0; i < input.Count; i++)
        {
            byte b = array[input.Offset + i];
            if (b == (byte)' ')
            {
                if (i == 0) throw new FramingException("OctetCounted", FramingRule.InvalidLength, "OctetCounted: a message starts with a space instead of its length.");
                header = i + 1;
                return true;
            }
            if (b < (byte)'0' || b > (byte)'9')
                throw new FramingException("OctetCounted", FramingRule.InvalidLength, $"OctetCounted: byte 0x{b:X2} where the message length's digits or its space should be (is this octet-stuffed, LF-terminated syslog?).");
            if (i == 0 && b == (byte)'0') throw new FramingException("OctetCounted", FramingRule.InvalidLength, "OctetCounted: a message length starts with 0.");
            if (i == MaxDigits) throw new FramingException("OctetCounted", FramingRule.InvalidLength, $"OctetCounted: a message length of more than {MaxDigits} digits.");
            count = count * 10 + (b - (byte)'0');
            if (count > MaxMessageLength)
                throw FramingException.TooLong("OctetCounted", $"a message of {count:N0} or more bytes", MaxMessageLength);
        }
        return false;
    }
}
