using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

public enum TcpEventKind
{
    Message,
    Opened,
    Closed,
}

/// <summary>What a connection reports to the thread that consumes it: a message, or a change of its state.</summary>
public sealed class TcpEvent
{
    private TcpEvent(TcpEventKind kind, TcpConnection connection, TcpMessage? message, NetException? error)
    {
        Kind = kind;
        Connection = connection;
        Message = message;
        Error = error;
    }

    public TcpEventKind Kind { get; }

    public TcpConnection Connection { get; }

    public TcpMessage? Message { get; }

    /// <summary>For <see cref="TcpEventKind.Closed"/>: why the connection ended, or null when the peer closed it cleanly.</summary>
    public NetException? Error { get; }

    public static TcpEvent ForMessage(TcpMessage message) => new(TcpEventKind.Message, message.Connection, message, null);

    public static TcpEvent Opened(TcpConnection connection) => new(TcpEventKind.Opened, connection, null, null);

    public static TcpEvent Closed(TcpConnection connection, NetException? error) => new(TcpEventKind.Closed, connection, null, error);
}
