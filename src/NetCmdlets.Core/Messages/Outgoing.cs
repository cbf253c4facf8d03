using System;

namespace NetCmdlets.Core.Messages;

/// <summary>
/// Something to send: a payload that the connection frames as one message of its framing, or raw
/// bytes that go out exactly as they are (a file, a reply the caller framed itself).
/// </summary>
/// <remarks>
/// A handler's output is framed, byte arrays included; a handler that must write bytes unframed (an
/// HTTP body after its header lines) outputs <c>[NetCmdlets.Core.Messages.Outgoing]::Raw($bytes)</c>.
/// </remarks>
public readonly struct Outgoing
{
    private Outgoing(byte[] bytes, bool isRaw)
    {
        Bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));
        IsRaw = isRaw;
    }

    public byte[] Bytes { get; }

    /// <summary>True: send <see cref="Bytes"/> as they are; false: frame them as one message.</summary>
    public bool IsRaw { get; }

    public static Outgoing Payload(byte[] payload) => new(payload, false);

    public static Outgoing Raw(byte[] bytes) => new(bytes, true);

    public override string ToString() => IsRaw ? $"{Bytes.Length} raw bytes" : $"{Bytes.Length} bytes to frame";
}
