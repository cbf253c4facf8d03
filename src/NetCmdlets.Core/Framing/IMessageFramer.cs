using System;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// Cuts one connection's byte stream into messages and wraps outgoing payloads for the wire.
/// </summary>
/// <remarks>
/// One instance per connection (see <see cref="MessageFraming.CreateFramer"/>), so a framer may keep
/// state. The caller passes all bytes not yet consumed, starting where the last consumed message ended;
/// until a call consumes something, each call sees the bytes of the call before plus new ones, so a
/// framer may remember how far it has looked instead of scanning the same bytes again.
/// </remarks>
public interface IMessageFramer
{
    /// <summary>The largest payload, in bytes, that a single message may carry.</summary>
    int MaxMessageLength { get; }

    /// <summary>Finds the first complete message at the start of <paramref name="input"/>.</summary>
    /// <param name="input">Bytes received and not yet consumed.</param>
    /// <param name="message">The payload of the message, a slice of <paramref name="input"/>.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> the message used, framing included.</param>
    /// <returns>False when more bytes are needed.</returns>
    /// <exception cref="FramingException">The input can never form a valid message.</exception>
    bool TryRead(ArraySegment<byte> input, out ArraySegment<byte> message, out int consumed);

    /// <summary>
    /// Called once the peer has finished sending, with whatever <see cref="TryRead"/> left.
    /// Returns the last, unterminated message if the framing allows one.
    /// </summary>
    /// <exception cref="FramingException">The remainder is a truncated message.</exception>
    bool TryReadFinal(ArraySegment<byte> input, out ArraySegment<byte> message);

    /// <summary>The bytes to put on the wire so that a peer with the same framing reads <paramref name="payload"/> as one message.</summary>
    byte[] Encode(ArraySegment<byte> payload);

    /// <summary>
    /// Forgets what it learned about the unconsumed input: the caller took bytes out of it another way
    /// (as raw bytes, to a file), so the next input does not start where the last one did.
    /// </summary>
    void Reset();
}
