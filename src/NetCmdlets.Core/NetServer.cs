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

    /// <summary>The bound endpoint; after <see cref="Start"/>, with the port the system picked for port 0.</summary>
    public IPEndPoint LocalEndPoint { get; protected set; }

    public ServerStatistics Statistics { get; } = new();

    /// <summary>How replies are framed; null when each reply is a datagram of its own.</summary>
    public abstract IMessageFramer? Framer { get; }

    protected BoundedQueue<ServerEvent> Events { get; }

    /// <summary>Events waiting to be taken.</summary>
    public int PendingEvents => Events.Count;

    /// <summary>Binds and starts receiving.</summary>
    /// <exception cref="Net.NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public abstract void Start();

    /// <summary>Sends <paramref name="replies"/> (each already framed) back to where <paramref name="request"/> came from, in order.</summary>
    /// <remarks>Returns once the replies are queued; the task completes when they are sent.</remarks>
    public abstract Task ReplyAsync(NetMessage request, IReadOnlyList<byte[]> replies);

    public async Task<ServerEvent> TakeEventAsync(CancellationToken cancellationToken) =>
        OnTaken(await Events.DequeueAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The next event, waiting up to <paramref name="timeout"/>; false when none came in time.</summary>
    public bool TryTakeEvent(out ServerEvent serverEvent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Events.TryDequeue(out serverEvent, timeout, cancellationToken)) return false;
        OnTaken(serverEvent);
        return true;
    }

    /// <summary>Hands <paramref name="notice"/> to the consumer in order with the other events; from any thread.</summary>
    public void Post(object notice) => Events.EnqueueControl(ServerEvent.ForNotice(notice));

    public abstract void Dispose();

    protected virtual ServerEvent OnTaken(ServerEvent serverEvent) => serverEvent;

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
