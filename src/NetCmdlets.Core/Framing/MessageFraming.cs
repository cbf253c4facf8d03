using System;
using System.Text;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// A framing as chosen by a user (lines, raw, ...): immutable and shareable, it makes one
/// <see cref="IMessageFramer"/> per connection, since framers keep per-connection state.
/// </summary>
public abstract class MessageFraming
{
    /// <summary>The name users choose it by ("Line", "Raw").</summary>
    public abstract string Name { get; }

    public abstract IMessageFramer CreateFramer();

    /// <summary>
    /// Each message is one JSON value (JSON lines): whoever sends converts values to JSON text, and
    /// whoever reads converts the text back; the framing itself cuts and ends lines.
    /// </summary>
    public virtual bool IsJson => false;

    /// <summary>For <see cref="IsJson"/>: how many levels of nested objects a value is converted to, when sent.</summary>
    public virtual int JsonDepth => 0;

    public override string ToString() => Name;

    /// <summary>Lines ended by LF (a CR before it dropped) in <paramref name="encoding"/>.</summary>
    public static MessageFraming Lines(Encoding? encoding = null, int maxMessageLength = LineFramer.DefaultMaxMessageLength) =>
        new LineFraming(encoding, maxMessageLength, crlf: false);

    /// <summary>Lines ended by LF (a CR before it dropped) in <paramref name="encoding"/>, sent with CR LF (<paramref name="crlf"/>) or LF.</summary>
    public static MessageFraming Lines(Encoding? encoding, int maxMessageLength, bool crlf) =>
        new LineFraming(encoding, maxMessageLength, crlf);

    /// <summary>JSON lines: one compact JSON value per LF-ended line, in <paramref name="encoding"/>; see <see cref="IsJson"/>.</summary>
    /// <param name="depth">Levels of nested objects converted when sending (as ConvertTo-Json -Depth).</param>
    public static MessageFraming JsonLines(Encoding? encoding = null, int maxMessageLength = LineFramer.DefaultMaxMessageLength, int depth = JsonLinesFraming.DefaultDepth) =>
        new JsonLinesFraming(encoding, maxMessageLength, depth);

    /// <summary>No framing: each chunk read is a message, and what is sent goes as it is.</summary>
    public static MessageFraming Raw { get; } = new RawFraming();

    /// <summary>Messages end with <paramref name="delimiter"/> (any bytes: NUL, CRLF, "\r\n.\r\n").</summary>
    /// <param name="unitSize">For a delimiter that is text: the encoding's code unit (2 for UTF-16, 4 for UTF-32).</param>
    public static MessageFraming Delimiter(byte[] delimiter, int maxMessageLength = LineFramer.DefaultMaxMessageLength, int unitSize = 1) =>
        new FromPrototype("Delimiter", new DelimiterFramer(delimiter, maxMessageLength, unitSize), prototype => new DelimiterFramer(delimiter, maxMessageLength, unitSize));

    /// <summary>An unsigned length prefix of 1, 2, 4 or 8 bytes, then the payload; by default 4 bytes, big endian, the payload's length alone.</summary>
    public static MessageFraming LengthPrefixed(int prefixLength = 4, bool bigEndian = true, bool includesPrefix = false, int maxMessageLength = LineFramer.DefaultMaxMessageLength)
    {
        var framer = new LengthPrefixedFramer(prefixLength, bigEndian, includesPrefix, maxMessageLength);
        // It keeps no state: one serves every connection.
        return new FromPrototype("LengthPrefixed", framer, prototype => prototype);
    }

    /// <summary>Every message is <paramref name="size"/> bytes.</summary>
    public static MessageFraming Fixed(int size)
    {
        var framer = new FixedLengthFramer(size);
        return new FromPrototype("Fixed", framer, prototype => prototype);
    }

    /// <summary>RFC 6587 octet counting ("LEN SP MSG"), as syslog over TCP uses it.</summary>
    public static MessageFraming OctetCounted(int maxMessageLength = LineFramer.DefaultMaxMessageLength)
    {
        var framer = new OctetCountedFramer(maxMessageLength);
        return new FromPrototype("OctetCounted", framer, prototype => prototype);
    }

    /// <summary>A framing from a first framer (made now, so bad arguments fail here) and how to get one per connection.</summary>
    private sealed class FromPrototype : MessageFraming
    {
        private readonly IMessageFramer _prototype;
        private readonly Func<IMessageFramer, IMessageFramer> _next;

        public FromPrototype(string name, IMessageFramer prototype, Func<IMessageFramer, IMessageFramer> next)
        {
            Name = name;
            _prototype = prototype;
            _next = next;
        }

        public override string Name { get; }

        public override IMessageFramer CreateFramer() => _next(_prototype);
    }

    private sealed class LineFraming : MessageFraming
    {
        // Built once (it validates the arguments where the caller sees the error); each connection's
        // framer shares its terminator bytes.
        private readonly LineFramer _prototype;

        public LineFraming(Encoding? encoding, int maxMessageLength, bool crlf) => _prototype = new LineFramer(encoding, maxMessageLength, crlf);

        public override string Name => "Line";

        public override IMessageFramer CreateFramer() => new LineFramer(_prototype);
    }

    private sealed class JsonLinesFraming : MessageFraming
    {
        /// <summary>Deep enough for the objects scripts build; ConvertTo-Json's own default of 2 would cut them short.</summary>
        public const int DefaultDepth = 10;

        private readonly LineFramer _prototype;

        public JsonLinesFraming(Encoding? encoding, int maxMessageLength, int depth)
        {
            if (depth < 0 || depth > 100) throw new ArgumentOutOfRangeException(nameof(depth), "A JSON depth is between 0 and 100.");
            // A JSON value never holds a raw line feed (JSON escapes it), so lines cut values exactly.
            _prototype = new LineFramer(encoding, maxMessageLength, crlf: false) { Name = "Json" };
            JsonDepth = depth;
        }

        public override string Name => "Json";

        public override bool IsJson => true;

        public override int JsonDepth { get; }

        public override IMessageFramer CreateFramer() => new LineFramer(_prototype);
    }

    private sealed class RawFraming : MessageFraming
    {
        public override string Name => "Raw";

        public override IMessageFramer CreateFramer() => RawFramer.Shared;
    }
}
