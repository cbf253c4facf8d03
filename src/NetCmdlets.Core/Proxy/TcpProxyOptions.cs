using System;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Core.Tls;

namespace NetCmdlets.Core.Proxy;

/// <summary>How a proxy reaches its server and what it shows of the traffic.</summary>
public sealed class TcpProxyOptions
{
    public TcpProxyOptions(string remoteHost, int remotePort)
    {
        RemoteHost = remoteHost ?? throw new ArgumentNullException(nameof(remoteHost));
        RemotePort = remotePort;
    }

    /// <summary>A proxy to a server on a UNIX domain socket (a path, or an @abstract name).</summary>
    public TcpProxyOptions(UnixEndPoint remoteUnixSocket)
    {
        RemoteUnixSocket = remoteUnixSocket ?? throw new ArgumentNullException(nameof(remoteUnixSocket));
        RemoteHost = string.Empty;
    }

    public string RemoteHost { get; }

    public int RemotePort { get; }

    /// <summary>The server's UNIX socket, instead of <see cref="RemoteHost"/> and <see cref="RemotePort"/>.</summary>
    public UnixEndPoint? RemoteUnixSocket { get; }

    /// <summary>
    /// The client side: framing (what one traffic object is) and encoding, TLS terminated for clients
    /// (<see cref="ConnectionOptions.ServerTls"/>), -MaxConnections, the allow and deny lists, the idle limit.
    /// </summary>
    public ConnectionOptions Client { get; set; } = new();

    /// <summary>TLS to the server; null for plain TCP.</summary>
    public TlsClientOptions? UpstreamTls { get; set; }

    /// <summary>Limit for reaching the server for each client.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What passes is shown as traffic messages (framed by the client side's framing); otherwise only opens and closes.</summary>
    public bool Observe { get; set; } = true;

    /// <summary>
    /// A consumer decides what is forwarded: each message goes to it (as a traffic message holding a lease
    /// on its side) and nothing is forwarded but what it sends with <see cref="TcpProxy.ReplyAsync"/>.
    /// </summary>
    public bool ConsumerForwards { get; set; }
}
