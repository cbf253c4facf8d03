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

    public override string ToString() => Name;

    /// <summary>Lines ended by LF (a CR before it dropped) in <paramref name="encoding"/>.</summary>
    public static MessageFraming Lines(Encoding? encoding = null, int maxMessageLength = LineFramer.DefaultMaxMessageLength) =>
        new LineFraming(encoding, maxMessageLength);

    /// <summary>No framing: each chunk read is a message, and what is sent goes as it is.</summary>
    public static MessageFraming Raw { get; } = new RawFraming();

    private sealed class LineFraming : MessageFraming
    {
        // Built once (it validates the arguments where the caller sees the error); each connection's
        // framer shares its terminator bytes.
        private readonly LineFramer _prototype;

        public LineFraming(Encoding? encoding, int maxMessageLength) => _prototype = new LineFramer(encoding, maxMessageLength);

        public override string Name => "Line";

        public override IMessageFramer CreateFramer() => new LineFramer(_prototype);
    }

    private sealed class RawFraming : MessageFraming
    {
        public override string Name => "Raw";

        public override IMessageFramer CreateFramer() => RawFramer.Shared;
    }
}
