using System;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Proxy;

/// <summary>What happened to a proxied connection.</summary>
public enum TcpProxyEvent
{
    /// <summary>A client connected and the proxy reached the server for it.</summary>
    Opened,

    /// <summary>Both sides are closed; the byte counts are final.</summary>
    Closed,
}

/// <summary>A proxied connection opening or closing: its two ends and, once closed, what passed each way.</summary>
public sealed class TcpProxyConnection
{
    internal TcpProxyConnection(ProxyPair pair, TcpProxyEvent kind, string? error)
    {
        ConnectionId = pair.Id;
        Event = kind;
        ClientEndPoint = pair.Client.RemoteNetEndPoint;
        ServerEndPoint = pair.Upstream.RemoteNetEndPoint;
        BytesClientToServer = pair.Client.BytesReceived;
        BytesServerToClient = pair.Upstream.BytesReceived;
        Error = error;
        Timestamp = DateTime.Now;
    }

    public int ConnectionId { get; }

    public TcpProxyEvent Event { get; }

    public NetEndPoint ClientEndPoint { get; }

    public NetEndPoint ServerEndPoint { get; }

    /// <summary>Bytes the client sent so far (all of them, once Closed).</summary>
    public long BytesClientToServer { get; }

    /// <summary>Bytes the server sent so far.</summary>
    public long BytesServerToClient { get; }

    /// <summary>Why it ended, when not cleanly (a reset, a framing error); null otherwise.</summary>
    public string? Error { get; }

    public DateTime Timestamp { get; }

    public override string ToString() => $"#{ConnectionId} {Event} {ClientEndPoint} <-> {ServerEndPoint}";
}
