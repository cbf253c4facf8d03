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

    public override IMessageFramer Framer => _options.Framer;

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

    public override Task ReplyAsync(NetMessage request, IReadOnlyList<byte[]> replies)
    {
        // Each reply is queued as it is; the connection's send loop joins what is queued into one write.
        TcpConnection connection = ((TcpMessage)request).Connection;
        Task last = Task.CompletedTask;
        foreach (byte[] reply in replies) last = connection.SendAsync(reply, 1, CancellationToken.None);
        return last;
    }

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
            serverEvent.Connection!.Close();
            _connections.TryRemove(serverEvent.Connection.Id, out _);
        }
        return serverEvent;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        int failures = 0;
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
                // Out of descriptors or a client gone before accept: count it and go on accepting,
                // backing off so a lasting failure (EMFILE) does not spin a core.
                Statistics.AddError();
                failures++;
                if (failures > 1) await Task.Delay(Math.Min(1000, 5 << Math.Min(failures, 8))).ConfigureAwait(false);
                continue;
            }
            failures = 0;
            var connection = new TcpConnection(client, TcpConnectionRole.Server, _options.Framer, _options.Encoding, Statistics);
            _connections[connection.Id] = connection;
            Statistics.ConnectionOpened();
            Events.EnqueueControl(ServerEvent.Opened(connection));
            _ = connection.ReceiveIntoAsync(Events, _stopping.Token);
            if (_stopping.IsCancellationRequested) connection.Abort();
        }
    }
}
