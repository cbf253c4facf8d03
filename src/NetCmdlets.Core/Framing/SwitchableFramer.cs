using System;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// A connection's framer that can be replaced from the next byte on: for good (a protocol that changes its
/// framing after a handshake, both ways), or for the next received message only (an HTTP body of
/// Content-Length bytes, an SMTP DATA block), after which the connection's framing reads on.
/// </summary>
/// <remarks>
/// A switch must happen while nobody is framing with it: between two reads of a client connection, or,
/// on a server, while the receive loop waits for the handler of the message before (see
/// <c>TcpConnection.SwitchFraming</c>).
/// </remarks>
internal sealed class SwitchableFramer : IMessageFramer
{
    private volatile Entry _current;
    private volatile Entry? _nextMessageOnly;
    private volatile Entry _sending;

    public SwitchableFramer(MessageFraming framing) => _current = _sending = new Entry(framing);

    /// <summary>The framing what is sent is wrapped in.</summary>
    public MessageFraming Sending => _sending.Framing;

    /// <summary>The framing that cut the last message read.</summary>
    public MessageFraming LastCutBy { get; private set; } = null!;

    /// <summary>What ended the last message read, when a line framing cut it; null for the other framings.</summary>
    public LineEnding? LastLineEnding => _lastReader is LineFramer line ? line.LastEnding : null;

    private IMessageFramer? _lastReader;

    private Entry Receiving => _nextMessageOnly ?? _current;

    public int MaxMessageLength => Receiving.Framer.MaxMessageLength;

    /// <summary>What is received from the next byte on is cut with <paramref name="framing"/>: for good, or for one message.</summary>
    public void SwitchReceiving(MessageFraming framing, bool nextMessageOnly)
    {
        var entry = new Entry(framing);
        if (nextMessageOnly)
        {
            _nextMessageOnly = entry;
        }
        else
        {
            _nextMessageOnly = null;
            _current = entry;
        }
    }

    /// <summary>What is sent from now on is wrapped in <paramref name="framing"/>.</summary>
    public void SwitchSending(MessageFraming framing) => _sending = _current.Framing == framing ? _current : new Entry(framing);

    public bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed)
    {
        Entry? once = _nextMessageOnly;
        Entry reading = once ?? _current;
        if (!reading.Framer.TryRead(input, out message, out consumed)) return false;
        LastCutBy = reading.Framing;
        _lastReader = reading.Framer;
        if (once is not null)
        {
            _nextMessageOnly = null;
            // What the connection's framer learned about the input before the switch no longer holds.
            _current.Framer.Reset();
        }
        return true;
    }

    public bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message)
    {
        Entry reading = Receiving;
        LastCutBy = reading.Framing;
        _lastReader = reading.Framer;
        return reading.Framer.TryReadFinal(input, out message);
    }

    public byte[] Encode(ArraySegment<byte> payload) => _sending.Framer.Encode(payload);

    public void Reset()
    {
        _nextMessageOnly?.Framer.Reset();
        _current.Framer.Reset();
    }

    private sealed class Entry
    {
        public Entry(MessageFraming framing)
        {
            Framing = framing;
            Framer = framing.CreateFramer();
        }

        public MessageFraming Framing { get; }

        public IMessageFramer Framer { get; }
    }
}
