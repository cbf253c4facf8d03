using System;
using System.Text;
using System.Threading;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core.Proxy;

/// <summary>
/// One message (or, with the Raw framing, one chunk as read) that passed through a proxy:
/// which way it went (<see cref="NetMessage.Direction"/> ClientToServer or ServerToClient), on which
/// proxied connection, and both ends of it.
/// </summary>
public sealed class TcpTraffic : NetMessage
{
    private readonly TcpConnection _source;
    private readonly TcpConnection _destination;
    private readonly bool _leased;

    internal TcpTraffic(byte[] data, Encoding encoding, ProxyPair pair, bool toServer, bool leased)
        : base(data, encoding, Source(pair, toServer).RemoteNetEndPoint, Source(pair, toServer).LocalNetEndPoint,
            toServer ? MessageDirection.ClientToServer : MessageDirection.ServerToClient)
    {
        _source = Source(pair, toServer);
        _destination = toServer ? pair.Upstream : pair.Client;
        _leased = leased;
        ConnectionId = pair.Id;
        ClientEndPoint = pair.Client.RemoteNetEndPoint;
        ServerEndPoint = pair.Upstream.RemoteNetEndPoint;
    }

    private static TcpConnection Source(ProxyPair pair, bool toServer) => toServer ? pair.Client : pair.Upstream;

    /// <summary>The proxied connection: the same for both directions, and for its open and close records.</summary>
    public int ConnectionId { get; }

    /// <summary>The client that connected to the proxy.</summary>
    public NetEndPoint ClientEndPoint { get; }

    /// <summary>The server the proxy forwards to.</summary>
    public NetEndPoint ServerEndPoint { get; }

    /// <summary>
    /// With a handler: sends <paramref name="text"/> back to whoever sent this message (framed as the
    /// proxy frames), instead of forwarding anything for it.
    /// </summary>
    /// <exception cref="NetException">ConnectionClosed: that side is closed.</exception>
    public void Reply(string text) => _ = _source.SendTextAsync(text, CancellationToken.None);

    /// <summary>Sends <paramref name="data"/> back to whoever sent this message, as one message of the proxy's framing.</summary>
    public void Reply(byte[] data) => _ = _source.SendAsync(new[] { Outgoing.Payload(data ?? throw new ArgumentNullException(nameof(data))) }, CancellationToken.None);

    /// <summary>The side it came from; its consumer holds a lease for it while a handler decides what to forward.</summary>
    internal override TcpConnection? SourceConnection => _leased ? _source : null;

    /// <summary>The side what a handler outputs for it goes to.</summary>
    internal TcpConnection Destination => _destination;
}
