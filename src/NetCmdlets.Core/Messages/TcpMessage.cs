using System.Net;
using System.Text;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core.Messages;

/// <summary>One framed message of a TCP connection.</summary>
public sealed class TcpMessage : NetMessage
{
    public TcpMessage(byte[] data, Encoding encoding, TcpConnection connection, MessageDirection direction)
        : base(data, encoding, connection.RemoteNetEndPoint, connection.LocalNetEndPoint, direction)
    {
        Connection = connection;
    }

    /// <summary>The connection the message travelled on; on a server, the one to answer.</summary>
    /// <remarks>PowerShell shows it as the (hidden) Connection property; see <see cref="NetMessage"/> for why it is a method here.</remarks>
    public TcpConnection GetConnection() => Connection;

    internal TcpConnection Connection { get; }

    internal override TcpConnection? SourceConnection => Connection;

    /// <summary>The framing that cut it from the stream (a connection's framing can switch); null for a message sent.</summary>
    internal Framing.MessageFraming? Framing { get; set; }

    /// <summary>
    /// What ended a received line (LF, CRLF, or for the last line of a stream None or CR); null for other
    /// framings and for messages sent. Data followed by this ending is exactly what the peer sent.
    /// </summary>
    /// <remarks>A method, as the connection is, so that a message stays small data; PowerShell shows it as the hidden LineEnding property.</remarks>
    public Framing.LineEnding? GetLineEnding() => LineEnding;

    internal Framing.LineEnding? LineEnding { get; set; }

    /// <summary>
    /// Sends <paramref name="text"/>, framed by each one's framing, to every other connection of the server
    /// that received this message (a broadcast); a connection that does not read is dropped rather than waited for.
    /// </summary>
    /// <exception cref="System.InvalidOperationException">No server received this message.</exception>
    public void Broadcast(string text) => Broadcast(Encoding.GetBytes(text ?? throw new System.ArgumentNullException(nameof(text))));

    /// <summary>Sends <paramref name="data"/> as one message to every other connection of the server that received this message.</summary>
    public void Broadcast(byte[] data)
    {
        if (Connection.Owner is not TcpServer server)
            throw new System.InvalidOperationException($"Connection {Connection} was not accepted by a server: there is nobody else to broadcast to.");
        server.Broadcast(Connection, new[] { Outgoing.Payload(data ?? throw new System.ArgumentNullException(nameof(data))) });
    }

    /// <summary>The connection's Id, for grouping and sorting.</summary>
    public int ConnectionId => Connection.Id;
}
