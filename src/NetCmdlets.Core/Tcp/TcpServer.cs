using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// A listener serving any number of clients on the thread pool. Everything that happens (a client
/// connects, a message arrives, a client leaves) becomes a <see cref="TcpEvent"/> that one consumer
/// takes in order with <see cref="TakeEventAsync"/> or <see cref="TryTakeEvent"/>.
/// </summary>
public sealed class TcpServer : IDisposable
{
    private readonly ConnectionOptions _options;
    private readonly BoundedQueue<TcpEvent> _events;
    private readonly ConcurrentDictionary<int, TcpConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;

    public TcpServer(IPEndPoint localEndPoint, ConnectionOptions? options = null)
    {
        LocalEndPoint = localEndPoint ?? throw new ArgumentNullException(nameof(localEndPoint));
        _options = options ?? new ConnectionOptions();
        _events = new BoundedQueue<TcpEvent>(_options.QueueCapacity);
    }

    /// <summary>The bound endpoint; after <see cref="Start"/>, with the port the system picked for port 0.</summary>
    public IPEndPoint LocalEndPoint { get; private set; }

    public ServerStatistics Statistics { get; } = new();

    public ICollection<TcpConnection> Connections => _connections.Values;

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="NetException">AddressInUse, AddressNotAvailable or another socket error.</exception>
    public void Start()
    {
        var listener = new Socket(LocalEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (LocalEndPoint.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(LocalEndPoint);
            // The largest backlog the system allows: a burst of clients must not be refused.
            listener.Listen((int)SocketOptionName.MaxConnections);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw NetException.FromSocket(e, LocalEndPoint.ToString(), "Listening on");
        }
        _listener = listener;
        LocalEndPoint = EndPoints.Normalize(listener.LocalEndPoint);
        _ = AcceptLoopAsync(listener);
    }

    /// <summary>The next event, waiting as long as the token allows. A Closed event closes its connection as it is taken.</summary>
    public async Task<TcpEvent> TakeEventAsync(CancellationToken cancellationToken) =>
        Settle(await _events.DequeueAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The next event, waiting up to <paramref name="timeout"/>; false when none came in time.</summary>
    public bool TryTakeEvent(out TcpEvent tcpEvent, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_events.TryDequeue(out tcpEvent, timeout, cancellationToken)) return false;
        Settle(tcpEvent);
        return true;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener?.Dispose();
        // Graceful: replies already queued (to the last counted message, say) still go out.
        foreach (TcpConnection connection in _connections.Values) connection.Close();
        _connections.Clear();
    }

    private TcpEvent Settle(TcpEvent tcpEvent)
    {
        // Closing here, not when the peer's end is read, lets replies to its last messages go out first.
        if (tcpEvent.Kind == TcpEventKind.Closed)
        {
            tcpEvent.Connection.Close();
            _connections.TryRemove(tcpEvent.Connection.Id, out _);
        }
        return tcpEvent;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // Out of descriptors or a client gone before accept: count it and go on accepting.
                Statistics.AddError();
                continue;
            }
            var connection = new TcpConnection(client, TcpConnectionRole.Server, _options.Framer, _options.Encoding, Statistics);
            _connections[connection.Id] = connection;
            Statistics.ConnectionOpened();
            _events.EnqueueControl(TcpEvent.Opened(connection));
            _ = connection.ReceiveIntoAsync(_events, _stopping.Token);
            if (_stopping.IsCancellationRequested) connection.Abort();
        }
    }
}
