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
        : base(localEndPoint, (options ?? new ConnectionOptions()).QueueCapacity)
    {
        _options = options ?? new ConnectionOptions();
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

    public override void Start()
    {
        Socket listener = Bind(SocketType.Stream, ProtocolType.Tcp, s =>
        {
            s.Bind(LocalEndPoint);
            // The largest backlog the system allows: a burst of clients must not be refused.
            s.Listen((int)SocketOptionName.MaxConnections);
        });
        _listener = listener;
        _ = AcceptLoopAsync(listener);
    }

    // Each reply is queued as it is; the connection's send loop joins what is queued into one write.
    public override Task ReplyAsync(NetMessage request, IReadOnlyList<Outgoing> replies) =>
        ((TcpMessage)request).Connection.SendAsync(replies, CancellationToken.None);

    public override void Dispose()
    {
        _stopping.Cancel();
        _listener?.Dispose();
        // Graceful: replies already queued (to the last counted message, say) still go out.
        foreach (TcpConnection connection in _connections.Values) connection.Close(CloseGrace);
        _connections.Clear();
    }

    protected override ServerEvent OnTaken(ServerEvent serverEvent)
    {
        // Closing here, not when the peer's end is read, lets replies to its last messages go out first
        // (those still in a parallel handler hold the connection open, see TcpConnection.Hold).
        if (serverEvent.Kind == ServerEventKind.Closed)
        {
            serverEvent.Connection!.CloseWhenSent(SendStallLimit);
            _connections.TryRemove(serverEvent.Connection.Id, out _);
        }
        else if (serverEvent.Kind == ServerEventKind.Message)
        {
            // Bytes a connection may have waiting here are bounded too: taking them lets it read on.
            serverEvent.Connection!.MessageTaken(serverEvent.Message!.Length);
        }
        return base.OnTaken(serverEvent);
    }

    /// <summary>Hands a new connection on: registered, announced (Opened), then read.</summary>
    private async Task OpenAsync(TcpConnection connection)
    {
        if (_options.FrameInTurn)
        {
            connection.FramesInTurn = true;
            // Its opening is the first turn: -OnConnect may switch the framing before a byte is cut.
            connection.AwaitHandling();
        }
        _connections[connection.Id] = connection;
        Statistics.ConnectionOpened();
        // Counted in the queue's bound: a consumer that falls behind slows accepting down too.
        await Events.EnqueueAsync(ServerEvent.Opened(connection), _stopping.Token).ConfigureAwait(false);
        _ = connection.ReceiveIntoAsync(Events, _stopping.Token);
        if (_stopping.IsCancellationRequested) connection.Abort();
    }

    /// <summary>
    /// The server's TLS handshake with one client, then the connection is opened; a failed handshake
    /// (plain text, no client certificate, too slow) is reported and counted, and the server goes on.
    /// </summary>
    private async Task SecureAndOpenAsync(SocketTransport transport, TlsServerOptions tls)
    {
        TcpConnection? connection = null;
        try
        {
            TlsTransport secured = await TlsTransport.AuthenticateAsServerAsync(transport, tls, _stopping.Token).ConfigureAwait(false);
            connection = new TcpConnection(secured, TcpConnectionRole.Server, _options.Framing, _options.Encoding, Statistics);
            await OpenAsync(connection).ConfigureAwait(false);
        }
        catch (TlsException e)
        {
            transport.Abort();
            Statistics.AddTlsFailure();
            Post(new NetException(NetErrorKind.Tls, transport.RemoteEndPoint.ToString(), e.Message, e));
        }
        catch (Exception)
        {
            // Stopped, or the client vanished mid-way: nothing to report.
            transport.Abort();
            connection?.Abort();
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        var backoff = new RetryBackoff();
        while (!_stopping.IsCancellationRequested)
        {
            Socket? client = null;
            TcpConnection? connection = null;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
                AcceptedHook?.Invoke(client);
                // Set-up is inside the try: a client reset while waiting in the backlog fails here
                // (its endpoints cannot be read), and only that client is lost.
                var transport = new SocketTransport(client);
                client = null;
                if (_options.ServerTls is { } tls)
                {
                    // Each handshake on its own: a slow or silent client holds up nobody else.
                    _ = SecureAndOpenAsync(transport, tls);
                }
                else
                {
                    connection = new TcpConnection(transport, TcpConnectionRole.Server, _options.Framing, _options.Encoding, Statistics);
                    await OpenAsync(connection).ConfigureAwait(false);
                    connection = null;
                }
                backoff.Succeeded();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                // Stopped between accepting and handing the connection on: nobody else would close it.
                client?.Dispose();
                connection?.Abort();
                return;
            }
            catch (Exception)
            {
                client?.Dispose();
                connection?.Abort();
                // Out of descriptors, or a client gone before its set-up: count it and go on accepting,
                // backing off so a lasting failure (EMFILE) does not spin a core.
                Statistics.AddError();
                await backoff.FailedAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
    }
}
