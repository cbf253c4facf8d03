using System.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets;

/// <summary>Written to the information stream (tag "Listening") once a server is bound, so port 0 can be read back.</summary>
public sealed class ListenerStarted
{
    public ListenerStarted(string protocol, EndPoint localEndPoint, ServerStatistics statistics, Core.NetServer? server = null)
    {
        Protocol = protocol;
        LocalEndPoint = localEndPoint;
        Statistics = statistics;
        _server = server;
    }

    private readonly Core.NetServer? _server;

    internal Core.NetServer? Server => _server;

    /// <summary>The server's TCP connections open now (read afresh each time): send to them from anywhere with Send-TcpMessage -Connection.</summary>
    public System.Collections.Generic.IReadOnlyList<TcpConnection> Connections => _server?.OpenConnections ?? System.Array.Empty<TcpConnection>();

    /// <summary>The server's live figures.</summary>
    public ServerStatistics Statistics { get; }

    public string Protocol { get; }

    /// <summary>An IPEndPoint, or for a server on a UNIX socket its unix:/path.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>The port; 0 for a server on a UNIX socket.</summary>
    public int Port => (LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>The path (or @name) of the UNIX socket the server listens on; null for one on a port.</summary>
    public string? UnixSocket => (LocalEndPoint as Core.Net.UnixEndPoint)?.Path;

    public override string ToString() => $"Listening on {Protocol} {LocalEndPoint}";
}
