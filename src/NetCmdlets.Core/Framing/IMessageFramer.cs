using System;

namespace NetCmdlets.Core.Framing;

/// <summary>
/// Cuts a byte stream into messages and wraps outgoing payloads for the wire.
/// Implementations are pure functions of their input, so one instance may serve many connections.
/// </summary>
public interface IMessageFramer
{
    /// <summary>The largest payload, in bytes, that a single message may carry.</summary>
    int MaxMessageLength { get; }

    /// <summary>
    /// Finds the first complete message at the start of <paramref name="input"/>.
    /// </summary>
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
}
