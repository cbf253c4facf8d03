using System;
using System.Net;
using System.Text;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Messages;

/// <summary>One message or datagram: its exact bytes, its text, and where it came from.</summary>
/// <remarks>
/// Its public properties are plain values on purpose (no connection, encoding or socket types), so a
/// message is good data for ConvertTo-Json and Export-Csv; the rest is reached through methods.
/// </remarks>
public abstract class NetMessage
{
    private readonly Encoding _encoding;
    private string? _text;

    protected NetMessage(byte[] data, Encoding encoding, EndPoint remoteEndPoint, EndPoint localEndPoint, MessageDirection direction)
        : this(data, encoding, new NetEndPoint(remoteEndPoint), new NetEndPoint(localEndPoint), direction)
    {
    }

    /// <summary>With endpoints made once for many messages (a connection's).</summary>
    private protected NetMessage(byte[] data, Encoding encoding, NetEndPoint remoteEndPoint, NetEndPoint localEndPoint, MessageDirection direction)
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

    public NetEndPoint RemoteEndPoint { get; }

    public NetEndPoint LocalEndPoint { get; }

    /// <summary>When the message was read from, or written to, the socket (local time).</summary>
    public DateTime Timestamp { get; }

    public MessageDirection Direction { get; }

    /// <summary>How <see cref="Text"/> is decoded; not a property, so that a message converts to small JSON.</summary>
    public Encoding GetEncoding() => _encoding;

    internal Encoding Encoding => _encoding;

    /// <summary>The TCP connection it came in on, whose consumer holds a lease for it (see <see cref="Tcp.TcpConnection.ReturnLease"/>); null for datagrams.</summary>
    internal virtual Tcp.TcpConnection? SourceConnection => null;

    public override string ToString() => Text;
}
