using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core;

public enum ServerEventKind
{
    /// <summary>A message or datagram arrived.</summary>
    Message,

    /// <summary>A TCP client connected.</summary>
    Opened,

    /// <summary>A TCP connection's receiving side ended.</summary>
    Closed,

    /// <summary>Something posted by the consumer's own helpers (handler workers) for the consuming thread.</summary>
    Notice,
}

/// <summary>What a server reports to the one thread that consumes it, in order.</summary>
public sealed class ServerEvent
{
    private ServerEvent(ServerEventKind kind, NetMessage? message, TcpConnection? connection, NetException? error, object? notice)
    {
        Kind = kind;
        Message = message;
        Connection = connection;
        Error = error;
        Notice = notice;
    }

    public ServerEventKind Kind { get; }

    public NetMessage? Message { get; }

    /// <summary>The TCP connection concerned; null for UDP.</summary>
    public TcpConnection? Connection { get; }

    /// <summary>For <see cref="ServerEventKind.Closed"/>: why the connection ended, or null when the peer closed it cleanly.</summary>
    public NetException? Error { get; }

    public object? Notice { get; }

    public static ServerEvent ForMessage(TcpMessage message) => new(ServerEventKind.Message, message, message.Connection, null, null);

    /// <summary>A message that passed through a proxy.</summary>
    public static ServerEvent ForTraffic(Proxy.TcpTraffic traffic) => new(ServerEventKind.Message, traffic, null, null, null);

    public static ServerEvent ForDatagram(UdpDatagram datagram) => new(ServerEventKind.Message, datagram, null, null, null);

    public static ServerEvent Opened(TcpConnection connection) => new(ServerEventKind.Opened, null, connection, null, null);

    public static ServerEvent Closed(TcpConnection connection, NetException? error) => new(ServerEventKind.Closed, null, connection, error, null);

    public static ServerEvent ForNotice(object notice) => new(ServerEventKind.Notice, null, null, null, notice);
}
