using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Core;

/// <summary>
/// A bound socket that turns what happens on it into <see cref="ServerEvent"/>s for one consumer,
/// taken in order with <see cref="TakeEventAsync"/> or <see cref="TryTakeEvent"/>, and answers messages.
/// </summary>
public abstract class NetServer : IDisposable
{
    protected NetServer(IPEndPoint localEndPoint, int queueCapacity)
    {
        LocalEndPoint = localEndPoint ?? throw new ArgumentNullException(nameof(localEndPoint));
        Events = new BoundedQueue<ServerEvent>(queueCapacity);
    }

    /// <summary>"TCP" or "UDP".</summary>
    public abstract string Protocol { get; }

    /// <summary>The bound endpoint; after <see cref="Start"/>, with the port the system picked for port 0. Unused by a server on a UNIX socket.</summary>
    public IPEndPoint LocalEndPoint { get; protected set; }

    /// <summary>The UNIX domain socket the server listens on instead of an IP endpoint; null for one on IP.</summary>
    public Net.UnixEndPoint? UnixSocket { get; protected set; }

    /// <summary>Where it listens: <see cref="UnixSocket"/>, or <see cref="LocalEndPoint"/>.</summary>
    public EndPoint ListeningOn => (EndPoint?)UnixSocket ?? LocalEndPoint;

    public ServerStatistics Statistics { get; } = new();

    /// <summary>How replies are framed; null when each reply is a datagram of its own.</summary>
    public abstract MessageFraming? Framing { get; }

    protected BoundedQueue<ServerEvent> Events { get; }

    /// <summary>Events waiting to be taken.</summary>
    public int PendingEvents => Events.Count;

    /// <summary>Binds and starts receiving.</summary>
    /// <exception cref="Net.NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public abstract void Start();

    /// <summary>Sends <paramref name="replies"/> back to where <paramref name="request"/> came from, in order: payloads framed as the connection frames, raw bytes as they are.</summary>
    /// <remarks>Returns once the replies are queued; the task completes when they are sent.</remarks>
    /// <exception cref="Net.NetException">ConnectionClosed: the connection takes no more sends.</exception>
    public abstract Task ReplyAsync(NetMessage request, IReadOnlyList<Outgoing> replies);

    public async Task<ServerEvent> TakeEventAsync(CancellationToken cancellationToken) =>
        OnTaken(await Events.DequeueAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The next event, waiting up to <paramref name="timeout"/>; false when none came in time.</summary>
    public bool TryTakeEvent(out ServerEvent serverEvent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Events.TryDequeue(out serverEvent, timeout, cancellationToken)) return false;
        OnTaken(serverEvent);
        return true;
    }

    /// <summary>Notices (handler workers' records) waiting at most; past this they are dropped and counted.</summary>
    public const int MaxPendingNotices = 10000;

    private int _pendingNotices;

    /// <summary>Hands <paramref name="notice"/> to the consumer in order with the other events; from any thread.</summary>
    /// <remarks>Never blocks (a worker posting must not wait on the consumer it may be holding up); past
    /// <see cref="MaxPendingNotices"/> waiting, a notice is dropped and counted in <see cref="ServerStatistics.NoticesDropped"/>.</remarks>
    public void Post(object notice)
    {
        if (Interlocked.Increment(ref _pendingNotices) > MaxPendingNotices)
        {
            Interlocked.Decrement(ref _pendingNotices);
            Statistics.AddNoticeDropped();
            return;
        }
        Events.EnqueueControl(ServerEvent.ForNotice(notice));
    }

    public abstract void Dispose();

    /// <summary>
    /// A client's TLS handshake failed: its transport is aborted; one that left without a byte (a health
    /// check, a port scan) is no failure, any other is counted and reported to the consumer.
    /// </summary>
    private protected void HandshakeFailed(Transport.ConnectionTransport transport, Tls.TlsException failure)
    {
        transport.Abort();
        if (failure.SentNothing) return;
        Statistics.AddTlsFailure();
        Post(new Net.NetException(Net.NetErrorKind.Tls, transport.PeerName, failure.Message, failure));
    }

    /// <summary>A TLS handshake ended unfinished to make room for newer ones (see <see cref="Tcp.PendingHandshakes"/>): counted and reported.</summary>
    private protected void HandshakeEvicted(Transport.ConnectionTransport transport, int limit)
    {
        transport.Abort();
        Statistics.AddTlsFailure();
        Post(new Net.NetException(Net.NetErrorKind.Tls, transport.PeerName,
            $"The TLS handshake with {transport.RemoteEndPoint} was ended unfinished to make room: {limit} newer handshakes were under way.",
            new Tls.TlsException(Tls.TlsFailure.Timeout, "ended to make room for newer handshakes")));
    }

    /// <summary>The TCP connections open now, in order of Id (for UDP, none): push to them from anywhere with SendAsync.</summary>
    public virtual IReadOnlyList<TcpConnection> OpenConnections => Array.Empty<TcpConnection>();

    protected virtual ServerEvent OnTaken(ServerEvent serverEvent)
    {
        if (serverEvent.Kind == ServerEventKind.Notice) Interlocked.Decrement(ref _pendingNotices);
        return serverEvent;
    }

    /// <summary>
    /// A socket bound to <see cref="LocalEndPoint"/> (dual-mode for the IPv6 any address), set up by
    /// <paramref name="prepare"/> around the bind; <see cref="LocalEndPoint"/> then holds the port given.
    /// </summary>
    /// <exception cref="Net.NetException">The bind or <paramref name="prepare"/> failed.</exception>
    protected Socket Bind(SocketType type, ProtocolType protocol, Action<Socket> prepare)
    {
        var socket = new Socket(LocalEndPoint.AddressFamily, type, protocol);
        try
        {
            if (LocalEndPoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            prepare(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw Net.NetException.FromSocket(e, LocalEndPoint.ToString(), $"Binding {Protocol}");
        }
        LocalEndPoint = Net.EndPoints.Normalize(socket.LocalEndPoint);
        return socket;
    }
}
