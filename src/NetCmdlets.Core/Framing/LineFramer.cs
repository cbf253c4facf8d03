using System;
using System.Text;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// Messages are lines ended by LF; a CR just before the LF is dropped, so CRLF and LF peers both work.
/// The terminators are taken in the text encoding in use, so UTF-16 and UTF-32 lines split correctly too.
/// </summary>
/// <remarks>
/// Remembers how far it has searched for a terminator, so a long line arriving in small pieces is
/// scanned once, not once per piece.
/// </remarks>
public sealed class LineFramer : IMessageFramer
{
    /// <summary>Default for <see cref="MaxMessageLength"/>: 1 MiB, far above any line protocol, low enough that a peer that never sends LF cannot exhaust memory.</summary>
    public const int DefaultMaxMessageLength = 1024 * 1024;

    private readonly byte[] _lineFeed;
    private readonly byte[] _carriageReturn;
    // What ends each line sent: LF, or CR LF for protocols that require it (SMTP, memcached, HTTP).
    private readonly byte[] _ending;

    public LineFramer() : this(null, DefaultMaxMessageLength) { }

    /// <param name="encoding">Encoding of the text; null means UTF-8 (any ASCII-compatible encoding gives the same bytes).</param>
    /// <param name="maxMessageLength">Longest line, in bytes, without its terminator.</param>
    public LineFramer(Encoding? encoding, int maxMessageLength) : this(encoding, maxMessageLength, crlf: false)
    {
    }

    /// <param name="crlf">End the lines sent with CR LF instead of LF; any received line ending is accepted either way.</param>
    public LineFramer(Encoding? encoding, int maxMessageLength, bool crlf)
    {
        if (maxMessageLength < 1) throw new ArgumentOutOfRangeException(nameof(maxMessageLength));
        encoding ??= TextEncodings.Utf8;
        _lineFeed = encoding.GetBytes("\n");
        _carriageReturn = encoding.GetBytes("\r");
        _ending = crlf ? encoding.GetBytes("\r\n") : _lineFeed;
        MaxMessageLength = maxMessageLength;
    }

    /// <summary>Bytes at the start of the unconsumed input already known to hold no terminator.</summary>
    private int _searched;

    /// <summary>A framer for another connection, sharing the terminators of <paramref name="prototype"/>.</summary>
    internal LineFramer(LineFramer prototype)
    {
        _lineFeed = prototype._lineFeed;
        _carriageReturn = prototype._carriageReturn;
        _ending = prototype._ending;
        MaxMessageLength = prototype.MaxMessageLength;
        Name = prototype.Name;
    }

    /// <summary>The framing's name in errors: Line, or Json for JSON lines.</summary>
    internal string Name { get; set; } = "Line";

    public int MaxMessageLength { get; }

    /// <summary>What ended the last line read: LF, CR LF, or nothing (the end of the stream).</summary>
    public LineEnding LastEnding { get; private set; }

    /// <summary>Bytes looked at while searching for terminators, in all; for tests of the scan's cost.</summary>
    internal long BytesExamined { get; private set; }

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        // Input shorter than what was searched means a new stream (a caller that started over): search it all.
        if (_searched > input.Count) _searched = 0;
        int lf = IndexOfTerminator(input, _searched);
        if (lf < 0)
        {
            // Next time, start where a terminator could begin: a multi-byte one may straddle the end.
            _searched = Math.Max(0, input.Count - (input.Count % _lineFeed.Length));
            // Without a terminator in sight, a buffer past the limit (plus a CR and all but the last
            // byte of a multi-byte LF) can only end in an oversized line.
            if (input.Count - _carriageReturn.Length - (_lineFeed.Length - 1) > MaxMessageLength)
                throw FramingException.TooLong(Name, $"a line of {input.Count:N0} bytes with no line feed yet", MaxMessageLength);
            message = default;
            consumed = 0;
            return false;
        }
        _searched = 0;
        var line = new ArraySegment<byte>(input.Array!, input.Offset, lf);
        message = TrimCarriageReturn(line);
        LastEnding = message.Count < line.Count ? LineEnding.CRLF : LineEnding.LF;
        if (message.Count > MaxMessageLength)
            throw FramingException.TooLong(Name, $"a line of {message.Count:N0} bytes", MaxMessageLength);
        consumed = lf + _lineFeed.Length;
        return true;
    }

    public void Reset() => _searched = 0;

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        _searched = 0;
        // Like StreamReader.ReadLine: text after the last LF is still a line.
        if (input.Count == 0)
        {
            message = default;
            return false;
        }
        // Cut by the end of the stream, not by a line feed; a CR at its end is dropped (StreamReader.ReadLine
        // does so too), and said so.
        message = TrimCarriageReturn(input);
        LastEnding = message.Count < input.Count ? LineEnding.CR : LineEnding.None;
        if (message.Count > MaxMessageLength)
            throw FramingException.TooLong(Name, $"a line of {message.Count:N0} bytes", MaxMessageLength);
        return true;
    }

    public byte[] Encode(ArraySegment<byte> payload)
    {
        return FrameBytes.Join(Array.Empty<byte>(), payload, _ending);
    }

    private int IndexOfTerminator(ArraySegment<byte> input, int from)
    {
        byte[] array = input.Array!;
        int unit = _lineFeed.Length;
        if (unit == 1)
        {
            int at = Array.IndexOf(array, _lineFeed[0], input.Offset + from, input.Count - from);
            BytesExamined += (at < 0 ? input.Count : at - input.Offset + 1) - from;
            return at < 0 ? -1 : at - input.Offset;
        }
        // Multi-byte encodings: only whole code units can be a terminator.
        for (int i = from; i + unit <= input.Count; i += unit)
        {
            BytesExamined += unit;
            if (FrameBytes.Matches(array, input.Offset + i, _lineFeed)) return i;
        }
        return -1;
    }

    private ArraySegment<byte> TrimCarriageReturn(ArraySegment<byte> line)
    {
        int cr = _carriageReturn.Length;
        if (line.Count >= cr && FrameBytes.Matches(line.Array!, line.Offset + line.Count - cr, _carriageReturn))
            return new ArraySegment<byte>(line.Array!, line.Offset, line.Count - cr);
        return line;
    }
}
