using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Proxy;

/// <summary>
/// Accepts clients and joins each to a connection of its own to one server (a relay, as socat
/// TCP-LISTEN,fork TCP:host:port): bytes flow both ways as they are read, with no turn of the consumer
/// per chunk. Its consumer takes, in order: a <see cref="TcpProxyConnection"/> notice per connection
/// opened and closed, and (when it observes) a <see cref="TcpTraffic"/> message per message that passed.
/// With <see cref="TcpProxyOptions.ConsumerForwards"/>, messages wait for the consumer, which forwards
/// what it decides with <see cref="ReplyAsync"/>.
/// </summary>
/// <remarks>
/// Statistics: BytesReceived and MessagesReceived count what clients sent (towards the server),
/// BytesSent and MessagesSent what went back to them.
/// </remarks>
public sealed class TcpProxy : NetServer
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HandshakeLimit = TimeSpan.FromSeconds(10);

    private readonly TcpProxyOptions _options;
    private readonly ServerAdmission _admission;
    private readonly ConcurrentDictionary<int, ProxyPair> _pairs = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private int _opening;
    // Bounded as a server's are: past the limit the oldest handshake is ended, so silent clients cannot crowd out others.
    private readonly PendingHandshakes _handshakes;
    private NetEndPoint? _endPoint;

    public TcpProxy(IPEndPoint localEndPoint, TcpProxyOptions options)
        : this(localEndPoint, options, TcpServer.MaxHandshakes)
    {
    }

    /// <summary>A proxy that listens on a UNIX domain socket (a path, or an @abstract name).</summary>
    /// <param name="mode">The socket file's permission bits; null leaves what the umask gives.</param>
    public TcpProxy(UnixEndPoint unixSocket, TcpProxyOptions options, int? mode = null)
        : this(new IPEndPoint(IPAddress.None, 0), options, TcpServer.MaxHandshakes)
    {
        UnixSocket = unixSocket ?? throw new ArgumentNullException(nameof(unixSocket));
        _unixMode = mode;
    }

    private readonly int? _unixMode;

    /// <param name="maxHandshakes">TLS handshakes with clients under way at once (tests use a few).</param>
    internal TcpProxy(IPEndPoint localEndPoint, TcpProxyOptions options, int maxHandshakes)
        : base(localEndPoint, (options ?? throw new ArgumentNullException(nameof(options))).Client.QueueCapacity)
    {
        _options = options;
        _handshakes = new PendingHandshakes(maxHandshakes);
        _admission = new ServerAdmission(options.Client, Statistics, Post);
    }

    public override string Protocol => "TCP";

    public override MessageFraming Framing => _options.Client.Framing;

    /// <summary>Where the proxy forwards to.</summary>
    public string Upstream => _options.RemoteUnixSocket?.ToString() ?? EndPoints.Format(_options.RemoteHost, _options.RemotePort);

    internal CancellationToken Stopping => _stopping.Token;

    private volatile Faults.TcpFault[] _faults = Array.Empty<Faults.TcpFault>();

    /// <summary>The faults applied, in order, to what the proxy forwards by itself (not to what a consumer forwards).</summary>
    public Faults.TcpFault[] Faults => _faults;

    /// <summary>Replaces the faults, for the connections open now too: from their next chunk on.</summary>
    public void SetFaults(IEnumerable<Faults.TcpFault> faults) => _faults = new List<Faults.TcpFault>(faults ?? Array.Empty<Faults.TcpFault>()).ToArray();

    /// <summary>The client side of every proxied connection open now.</summary>
    public override IReadOnlyList<TcpConnection> OpenConnections
    {
        get
        {
            var open = new List<TcpConnection>(_pairs.Count);
            foreach (ProxyPair pair in _pairs.Values) open.Add(pair.Client);
            open.Sort((a, b) => a.Id.CompareTo(b.Id));
            return open;
        }
    }

    public override void Start()
    {
        _listener = UnixSocket is { } unix ? UnixListener.Bind(unix, _unixMode) : Bind(SocketType.Stream, ProtocolType.Tcp, socket =>
        {
            socket.Bind(LocalEndPoint);
            socket.Listen(512);
        });
        _ = ListenerLoops.AcceptAsync(_listener, Statistics, _stopping.Token, TakeAsync);
        if (_options.Client.IdleTimeout is { } idle) _ = ListenerLoops.SweepIdleAsync(idle, _stopping.Token, (now, limit) => SweepIdle(idle, now, limit));
    }

    /// <summary>Forwards <paramref name="replies"/> (a consumer's decision for <paramref name="request"/>) to the side the request was going to.</summary>
    public override Task ReplyAsync(NetMessage request, IReadOnlyList<Outgoing> replies)
    {
        if (request is not TcpTraffic traffic) throw new ArgumentException("A proxy forwards only its own traffic messages.", nameof(request));
        try
        {
            return traffic.Destination.SendAsync(replies, CancellationToken.None);
        }
        catch (NetException e) when (e.Kind == NetErrorKind.ConnectionClosed && traffic.Destination.EndedWith is not null)
        {
            // That side ended with an error its close reports: what was decided has nowhere to go.
            return Task.CompletedTask;
        }
    }

    public override void Dispose()
    {
        _stopping.Cancel();
        if (_listener is not null)
        {
            _listener.Dispose();
            if (UnixSocket is { } unix) UnixListener.Remove(unix);
        }
        foreach (ProxyPair pair in _pairs.Values)
        {
            pair.Client.Close(CloseGrace);
            pair.Upstream.Close(CloseGrace);
        }
        _pairs.Clear();
    }

    protected override ServerEvent OnTaken(ServerEvent serverEvent)
    {
        // What a side sent and nobody took is bounded: taking it lets that side read on.
        if (serverEvent.Kind == ServerEventKind.Message && serverEvent.Message is TcpTraffic { SourceConnection: { } source } traffic)
            source.MessageTaken(traffic.Length);
        return base.OnTaken(serverEvent);
    }

    /// <summary>A traffic message shown to the consumer; completes once the queue took it (a slow consumer slows the traffic it watches).</summary>
    internal Task ShowAsync(TcpTraffic traffic)
    {
        Count(traffic);
        return Events.EnqueueAsync(ServerEvent.ForTraffic(traffic), _stopping.Token);
    }

    /// <summary>The last message of a direction, at its end: queued past the bound, since the end cannot wait.</summary>
    internal void ShowLast(TcpTraffic traffic)
    {
        Count(traffic);
        Events.EnqueueControl(ServerEvent.ForTraffic(traffic));
    }

    private void Count(TcpTraffic traffic)
    {
        if (traffic.Direction == MessageDirection.ClientToServer) Statistics.AddReceivedMessage();
        else Statistics.AddSent(1, 0);
    }

    /// <summary>A message for the consumer to decide on; its side holds a lease for it until the consumer is done.</summary>
    internal Task DeliverAsync(TcpTraffic traffic, TcpConnection source)
    {
        source.LeaseOut();
        source.Untaken.Add(traffic.Length);
        return ShowAsync(traffic);
    }

    internal void Closed(ProxyPair pair, NetException? error)
    {
        _pairs.TryRemove(pair.Id, out _);
        // A reset is how many clients and servers hang up: it is recorded, not an error.
        if (error is not null && error.Kind != NetErrorKind.ConnectionReset)
        {
            Statistics.AddError();
            Post(error);
        }
        Post(new TcpProxyConnection(pair, TcpProxyEvent.Closed, pair.EndedByFault ?? error?.Message));
    }

    /// <summary>One accepted client: refused, or opened on its own (a slow handshake or a slow server holds up no other client).</summary>
    private Task TakeAsync(Socket client)
    {
        if (!_admission.Admits(client, Volatile.Read(ref _opening)))
        {
            ServerAdmission.Refuse(client);
            return Task.CompletedTask;
        }
        var transport = new SocketTransport(client, inlineCompletions: _options.Client.ServerTls is null);
        Interlocked.Increment(ref _opening);
        _ = OpenAsync(transport, _options.Client.ServerTls is null ? null : _handshakes.Begin(transport));
        return Task.CompletedTask;
    }

    /// <summary>TLS with the client if asked for, then the server for it; a failure is that client's alone, reported, and the proxy goes on.</summary>
    private async Task OpenAsync(SocketTransport accepted, PendingHandshakes.Handshake? handshake)
    {
        ConnectionTransport transport = accepted;
        TcpConnection? upstream = null;
        try
        {
            if (_options.Client.ServerTls is { } tls)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                limit.CancelAfter(HandshakeLimit);
                transport = await TlsTransport.AuthenticateAsServerAsync(accepted, tls, limit.Token).ConfigureAwait(false);
                _handshakes.End(handshake!);
            }
            var upstreamOptions = new ConnectionOptions { Framing = _options.Client.Framing, Encoding = _options.Client.Encoding, Tls = _options.UpstreamTls };
            try
            {
                upstream = _options.RemoteUnixSocket is { } unix
                    ? await TcpConnector.ConnectUnixAsync(unix.Path, upstreamOptions, _options.ConnectTimeout, _stopping.Token).ConfigureAwait(false)
                    : await TcpConnector.ConnectAsync(_options.RemoteHost, _options.RemotePort, upstreamOptions, _options.ConnectTimeout, _stopping.Token).ConfigureAwait(false);
            }
            catch (NetException e)
            {
                // The client learns with a reset; the user learns why, for that client.
                transport.ResetOnAbort();
                transport.Abort();
                Statistics.AddError();
                Post(new NetException(e.Kind, Upstream, $"Could not reach {Upstream} for the client {accepted.RemoteEndPoint}: {e.Message}", e));
                return;
            }
            var client = new TcpConnection(transport, TcpConnectionRole.Server, _options.Client.Framing, _options.Client.Encoding, Statistics) { Server = _endPoint ??= new NetEndPoint(ListeningOn), Owner = this };
            var pair = new ProxyPair(this, client, upstream, _options.Observe && !_options.ConsumerForwards ? _options.Client.Framing : null);
            _pairs[pair.Id] = pair;
            Statistics.ConnectionOpened();
            pair.Start(_options.ConsumerForwards);
            if (_stopping.IsCancellationRequested)
            {
                client.Abort();
                upstream.Abort();
            }
        }
        catch (Exception) when (handshake is { Evicted: true } && !_stopping.IsCancellationRequested)
        {
            HandshakeEvicted(accepted, _handshakes.Limit);
        }
        catch (TlsException e)
        {
            HandshakeFailed(accepted, e);
        }
        catch (Exception)
        {
            // Stopped, or the client vanished mid-way: nothing to report.
            transport.Abort();
            upstream?.Abort();
        }
        finally
        {
            if (handshake is not null) _handshakes.End(handshake);
            Interlocked.Decrement(ref _opening);
        }
    }

    /// <summary>Closes proxied connections on which nothing moved either way for <paramref name="idle"/>.</summary>
    private void SweepIdle(TimeSpan idle, long now, long limit)
    {
        foreach (ProxyPair pair in _pairs.Values)
        {
            if (now - Math.Max(pair.Client.LastActivity, pair.Upstream.LastActivity) < limit || pair.Client.Working || pair.Upstream.Working) continue;
            pair.Client.EndIdle(idle);
            pair.Upstream.Close();
        }
    }
}
