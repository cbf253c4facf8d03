using System;
using System.Net;
using System.Text;

namespace NetCmdlets.Core.Messages;

/// <summary>One message or datagram: its exact bytes, its text, and where it came from.</summary>
public abstract class NetMessage
{
    private readonly Encoding _encoding;
    private string? _text;

    protected NetMessage(byte[] data, Encoding encoding, IPEndPoint remoteEndPoint, IPEndPoint localEndPoint, MessageDirection direction)
    {
        Data = data ?? throw new ArgumentNullException(nameof(data));
        _encoding = encoding ?? throw new ArgumentNullException(nameof(encoding));
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        Direction = direction;
        Timestamp = DateTime.Now;
    }

    /// <summary>The payload decoded with the encoding in use; invalid bytes become U+FFFD. Decoded on first use.</summary>
    public string Text => _text ??= _encoding.GetString(Data);

    /// <summary>The exact bytes of the payload, framing removed.</summary>
    public byte[] Data { get; }

    public int Length => Data.Length;

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>When the message was read from, or written to, the socket (local time).</summary>
    public DateTime Timestamp { get; }

    public MessageDirection Direction { get; }

    public Encoding Encoding => _encoding;

    public override string ToString() => Text;
}
