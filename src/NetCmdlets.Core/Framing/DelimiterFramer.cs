using System;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// Messages end with a delimiter: any byte sequence (NUL, CRLF, "\r\n.\r\n"). Remembers how far it has
/// searched, so a long message arriving in small pieces is scanned once.
/// </summary>
public sealed class DelimiterFramer : IMessageFramer
{
    private readonly byte[] _delimiter;
    private readonly int _unit;
    private int _searched;

    public DelimiterFramer(byte[] delimiter, int maxMessageLength) : this(delimiter, maxMessageLength, 1)
    {
    }

    /// <param name="unitSize">The text encoding's code unit (2 for UTF-16, 4 for UTF-32): a delimiter only counts where a character starts.</param>
    public DelimiterFramer(byte[] delimiter, int maxMessageLength, int unitSize)
    {
        if (delimiter is null || delimiter.Length == 0) throw new ArgumentException("The delimiter must have at least one byte.", nameof(delimiter));
        if (maxMessageLength < 1) throw new ArgumentOutOfRangeException(nameof(maxMessageLength));
        if (unitSize is not (1 or 2 or 4)) throw new ArgumentOutOfRangeException(nameof(unitSize));
        _delimiter = (byte[])delimiter.Clone();
        _unit = unitSize;
        MaxMessageLength = maxMessageLength;
    }

    public int MaxMessageLength { get; }

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        if (_searched > input.Count) _searched = 0;
        int at = IndexOfDelimiter(input, _searched);
        if (at < 0)
        {
            // A delimiter may straddle the end: the next search starts where it could begin, on a unit boundary.
            int next = Math.Max(0, input.Count - (_delimiter.Length - 1));
            _searched = next - next % _unit;
            if (input.Count - (_delimiter.Length - 1) > MaxMessageLength)
                throw FramingException.TooLong("Delimiter", $"a message of {input.Count:N0} bytes with no delimiter yet", MaxMessageLength);
            message = default;
            consumed = 0;
            return false;
        }
        _searched = 0;
        if (at > MaxMessageLength)
            throw FramingException.TooLong("Delimiter", $"a message of {at:N0} bytes", MaxMessageLength);
        message = new ArraySegment<byte>(input.Array!, input.Offset, at);
        consumed = at + _delimiter.Length;
        return true;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        _searched = 0;
        // As with lines: what follows the last delimiter is a message too.
        message = input;
        if (input.Count > MaxMessageLength)
            throw FramingException.TooLong("Delimiter", $"a message of {input.Count:N0} bytes", MaxMessageLength);
        return input.Count > 0;
    }

    public void Reset() => _searched = 0;

    public byte[] Encode(ArraySegment<byte> payload)
    {
        return FrameBytes.Join(Array.Empty<byte>(), payload, _delimiter);
    }

    private int IndexOfDelimiter(ArraySegment<byte> input, int from)
    {
        byte[] array = input.Array!;
        byte first = _delimiter[0];
        int last = input.Count - _delimiter.Length;
        for (int i = from; i <= last; i++)
        {
            int hit = Array.IndexOf(array, first, input.Offset + i, last - i + 1);
            if (hit < 0) return -1;
            i = hit - input.Offset;
            if (i % _unit == 0 && FrameBytes.Matches(array, hit, _delimiter)) return i;
        }
        return -1;
    }
}
