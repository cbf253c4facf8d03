using System.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets;

/// <summary>Written to the information stream (tag "Listening") once a server is bound, so port 0 can be read back.</summary>
public sealed class ListenerStarted
{
    public ListenerStarted(string protocol, IPEndPoint localEndPoint, ServerStatistics statistics)
    {
        Protocol = protocol;
        LocalEndPoint = localEndPoint;
        Statistics = statistics;
    }

    /// <summary>The server's live figures.</summary>
    public ServerStatistics Statistics { get; }

    public string Protocol { get; }

    public IPEndPoint LocalEndPoint { get; }

    public int Port => LocalEndPoint.Port;

    public override string ToString() => $"Listening on {Protocol} {LocalEndPoint}";
}
