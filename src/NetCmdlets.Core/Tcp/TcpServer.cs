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
using NetCmdlets.Core.Tls;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// A listener serving any number of clients on the thread pool. Clients connecting, messages and
/// clients leaving become <see cref="ServerEvent"/>s for one consumer.
/// </summary>
public sealed class TcpServer : NetServer
{
    private readonly ConnectionOptions _options;
    private readonly ConcurrentDictionary<int, TcpConnection> _connections = new();
    /// <summary>How long a stopped server waits for a client to take its last replies before resetting it.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;

    public TcpServer(IPEndPoint localEndPoint, ConnectionOptions? options = null)
        : this(localEndPoint, options, MaxHandshakes)
    {
    }

    /// <summary>A server on a UNIX domain socket (a path, or an @abstract name).</summary>
    /// <param name="mode">The socket file's permission bits (0o660, say); null leaves what the umask gives.</param>
    public TcpServer(UnixEndPoint unixSocket, ConnectionOptions? options = null, int? mode = null)
        : this(new IPEndPoint(IPAddress.None, 0), options, MaxHandshakes)
    {
        UnixSocket = unixSocket ?? throw new ArgumentNullException(nameof(unixSocket));
        _unixMode = mode;
    }

    private readonly int? _unixMode;

    /// <param name="maxHandshakes">TLS handshakes under way at once (tests use a few).</param>
    internal TcpServer(IPEndPoint localEndPoint, ConnectionOptions? options, int maxHandshakes)
        : base(localEndPoint, (options ?? new ConnectionOptions()).QueueCapacity)
    {
        _options = options ?? new ConnectionOptions();
        _handshakes = new PendingHandshakes(maxHandshakes);
        _admission = new ServerAdmission(_options, Statistics, Post);
        if (_options.Broker || _options.Chat) _broker = new ServerBroker(this, _options.Chat, relaysOnRead: _options.BrokerRelaysMessages && !_options.Chat);
        if (_options.MaxBufferedBytes > 0) Statistics.Buffers = _buffers = new ServerBufferBudget(_options.MaxBufferedBytes, TrimBuffers);
    }

    public override string Protocol => "TCP";

    public override MessageFraming Framing => _options.Framing;

    /// <summary>
    /// How long a connection whose peer has finished sending may take nothing of its queued replies
    /// before it is aborted (a peer that sends, half-closes and never reads).
    /// </summary>
    public TimeSpan SendStallLimit { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>For tests: runs on each accepted socket before its connection is set up, and may throw.</summary>
    internal Action<Socket>? AcceptedHook { get; set; }

    public ICollection<TcpConnection> Connections => _connections.Values;

    /// <summary>Sends <paramref name="items"/> to every open connection but <paramref name="except"/>; one that does not read is dropped rather than waited for.</summary>
    internal void Broadcast(TcpConnection except, IReadOnlyList<Outgoing> items)
    {
        if (_broker is not null) _broker.Broadcast(except, items);
        else new ServerBroker(this, chat: false, relaysOnRead: false).SendToAll(OpenConnections, except, items);
    }

    public override IReadOnlyList<TcpConnection> OpenConnections
    {
        get
        {
            var open = new List<TcpConnection>(_connections.Count);
            foreach (TcpConnection connection in _connections.Values)
            {
                if (connection.State != TcpConnectionState.Closed) open.Add(connection);
            }
            open.Sort((a, b) => a.Id.CompareTo(b.Id));
            return open;
        }
    }

    public override void Start()
    {
        Socket listener = UnixSocket is { } unix ? UnixListener.Bind(unix, _unixMode) : Bind(SocketType.Stream, ProtocolType.Tcp, s =>
        {
            s.Bind(LocalEndPoint);
            // The largest backlog the system allows: a burst of clients must not be refused.
            s.Listen((int)SocketOptionName.MaxConnections);
        });
        _listener = listener;
        _ = ListenerLoops.AcceptAsync(listener, Statistics, _stopping.Token, TakeAsync);
        if (_options.IdleTimeout is { } idle) _ = ListenerLoops.SweepIdleAsync(idle, _stopping.Token, (now, limit) => SweepIdle(idle, now, limit));
    }

    // Each reply is queued as it is; the connection's send loop joins what is queued into one write.
    public override Task ReplyAsync(NetMessage request, IReadOnlyList<Outgoing> replies)
    {
        TcpConnection connection = ((TcpMessage)request).Connection;
        if (_broker is not null)
        {
            // A broker's replies are for everyone.
            _broker.Relay(connection, replies, toSenderToo: true);
            return Task.CompletedTask;
        }
        try
        {
            return connection.SendAsync(replies, CancellationToken.None);
        }
        catch (NetException e) when (e.Kind == NetErrorKind.ConnectionClosed && connection.EndedWith is not null)
        {
            // It ended with an error its Closed event reports (a reset, a broken rule): the reply has nowhere to go.
            return Task.CompletedTask;
        }
    }

    public override void Dispose()
    {
        _stopping.Cancel();
        if (_listener is not null)
        {
            _listener.Dispose();
            // The socket file goes with the server that made it.
            if (UnixSocket is { } unix) UnixListener.Remove(unix);
        }
        // Graceful: replies already queued (to the last counted message, say) still go out.
        foreach (TcpConnection connection in _connections.Values) connection.Close(CloseGrace);
        _connections.Clear();
    }

    protected override ServerEvent OnTaken(ServerEvent serverEvent)
    {
        // Closing here, not when the peer's end is read, lets replies to its last messages go out first
        // (those still being made hold a lease on the connection, see TcpConnection.ReturnLease).
        if (serverEvent.Kind == ServerEventKind.Closed)
        {
            serverEvent.Connection!.CloseWhenSent(SendStallLimit);
            _connections.TryRemove(serverEvent.Connection.Id, out _);
            _broker?.Remove(serverEvent.Connection);
            _broker?.Left(serverEvent.Connection);
        }
        else if (serverEvent.Kind == ServerEventKind.Message)
        {
            // Bytes a connection may have waiting here are bounded too: taking them lets it read on.
            serverEvent.Connection!.MessageTaken(serverEvent.Message!.Length);
            if (!_options.ConsumerReturnsLeases) serverEvent.Connection.ReturnLease();
            if (_broker is not null && _options.BrokerRelaysMessages && !_broker.RelaysOnRead)
                _broker.Relay(serverEvent.Connection, new[] { Outgoing.Payload(serverEvent.Message.Data) }, toSenderToo: false);
        }
        else if (serverEvent.Kind == ServerEventKind.Opened)
        {
            if (!_options.ConsumerReturnsLeases) serverEvent.Connection!.ReturnLease();
            _broker?.Joined(serverEvent.Connection!);
        }
        return base.OnTaken(serverEvent);
    }

    /// <summary>Hands a new connection on: registered, announced (Opened), then read.</summary>
    private async Task OpenAsync(TcpConnection connection)
    {
        connection.FramesInTurn = _options.FrameInTurn;
        connection.Buffers = _buffers;
        connection.SendStallLimit = SendStallLimit;
        connection.Server = _serverEndPoint ??= new NetEndPoint(ListeningOn);
        connection.Owner = this;
        // Its opening is the first turn: -OnConnect may switch the framing before a byte is cut.
        connection.LeaseOut();
        _connections[connection.Id] = connection;
        _broker?.Add(connection);
        Statistics.ConnectionOpened();
        // Counted in the queue's bound: a consumer that falls behind slows accepting down too.
        await Events.EnqueueAsync(ServerEvent.Opened(connection), _stopping.Token).ConfigureAwait(false);
        _ = connection.ReceiveIntoAsync(Events, _stopping.Token, _broker is not null && _broker.RelaysOnRead ? _broker : null);
        if (_stopping.IsCancellationRequested) connection.Abort();
    }

    /// <summary>
    /// The server's TLS handshake with one client, then the connection is opened; a failed handshake
    /// (plain text, no client certificate, too slow) is reported and counted, and the server goes on.
    /// </summary>
    private async Task SecureAndOpenAsync(PendingHandshakes.Handshake handshake, TlsServerOptions tls)
    {
        SocketTransport transport = handshake.Transport;
        TcpConnection? connection = null;
        try
        {
            TlsTransport secured = await TlsTransport.AuthenticateAsServerAsync(transport, tls, _stopping.Token).ConfigureAwait(false);
            // Shaken hands: from here it counts as a connection (OpenAsync), never to be ended to make room.
            _handshakes.End(handshake);
            connection = new TcpConnection(secured, TcpConnectionRole.Server, _options.Framing, _options.Encoding, Statistics);
            await OpenAsync(connection).ConfigureAwait(false);
        }
        // Ended to make room, it fails however the closed socket makes it fail.
        catch (Exception) when (handshake.Evicted && !_stopping.IsCancellationRequested)
        {
            connection?.Abort();
            HandshakeEvicted(transport, _handshakes.Limit);
        }
        catch (TlsException e)
        {
            HandshakeFailed(transport, e);
        }
        catch (Exception)
        {
            // Stopped, or the client vanished mid-way: nothing to report.
            transport.Abort();
            connection?.Abort();
        }
        finally
        {
            _handshakes.End(handshake);
        }
    }

    private readonly ServerBufferBudget? _buffers;

    /// <summary>
    /// Over the buffer budget: closes the connections that hold the most until the server is back under it.
    /// Called by the budget, one caller at a time.
    /// </summary>
    private void TrimBuffers()
    {
        ServerBufferBudget budget = _buffers!;
        for (int left = _connections.Count; left > 0 && budget.IsOver; left--)
        {
            TcpConnection? largest = null;
            long most = 0;
            foreach (TcpConnection connection in _connections.Values)
            {
                long held = connection.HeldBytes;
                if (held > most)
                {
                    most = held;
                    largest = connection;
                }
            }
            if (largest is null) return;
            largest.EndOverBudget(budget);
        }
    }

    /// <summary>TLS handshakes (and handshaken connections waiting to be announced) at once; past it the oldest is ended.</summary>
    internal const int MaxHandshakes = 1024;

    private readonly PendingHandshakes _handshakes;
    private readonly ServerAdmission _admission;
    private NetEndPoint? _serverEndPoint;
    private readonly ServerBroker? _broker;
    /// <summary>
    /// Closes connections on which nothing moved for <paramref name="idle"/>: no byte either way and no
    /// message queued, handled or answered. A sweep a few times per limit (at most once a second) finds them.
    /// </summary>
    private void SweepIdle(TimeSpan idle, long now, long limit)
    {
        foreach (TcpConnection connection in _connections.Values)
        {
            try
            {
                if (now - connection.LastActivity > limit && connection.State is TcpConnectionState.Open or TcpConnectionState.SendClosed && !connection.Working)
                    connection.EndIdle(idle);
            }
            catch (Exception)
            {
                // One connection's failure to close must not end the limit for the others.
            }
        }
    }

    /// <summary>One accepted client: refused, or made a connection (after its handshake, with TLS) and opened.</summary>
    private Task TakeAsync(Socket client)
    {
        AcceptedHook?.Invoke(client);
        // Refused before a byte is read (or a handshake begun): by address, then by number.
        if (!_admission.Admits(client, _handshakes.Count))
        {
            ServerAdmission.Refuse(client);
            return Task.CompletedTask;
        }
        // A client reset while waiting in the backlog fails here (its endpoints cannot be read), and only that client is lost.
        var transport = new SocketTransport(client, inlineCompletions: _options.ServerTls is null);
        if (_options.ServerTls is { } tls)
        {
            // Each handshake on its own: a slow or silent client holds up nobody else. It counts
            // against -MaxConnections from now on. Bounded without waiting: past the limit the
            // oldest handshake is ended, so silent clients cannot fill the backlog either.
            _ = SecureAndOpenAsync(_handshakes.Begin(transport), tls);
            return Task.CompletedTask;
        }
        return OpenAcceptedAsync(new TcpConnection(transport, TcpConnectionRole.Server, _options.Framing, _options.Encoding, Statistics));
    }

    /// <summary>Opens a plain connection; the next client is accepted once it is announced (a consumer that falls behind slows accepting).</summary>
    private async Task OpenAcceptedAsync(TcpConnection connection)
    {
        try
        {
            await OpenAsync(connection).ConfigureAwait(false);
        }
        catch
        {
            connection.Abort();
            throw;
        }
    }
}
