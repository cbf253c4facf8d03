using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Reading a connection that no server reads (New-TcpConnection, also -Listen): its receive loop puts raw
/// chunks into the connection's <see cref="ClientInbox"/>, framed only when read, so the same bytes can be
/// read as messages (<see cref="ReceiveAsync"/>) or written to a file (<see cref="ReceiveToStreamAsync"/>).
/// </summary>
internal sealed class ConnectionReader
{
    private readonly TcpConnection _connection;
    private readonly ConnectionLifetime _lifetime;
    private ClientInbox? _inbox;

    public ConnectionReader(TcpConnection connection, ConnectionLifetime lifetime)
    {
        _connection = connection;
        _lifetime = lifetime;
    }

    /// <summary>Bytes came that nobody has read yet.</summary>
    public bool HasUnread => _inbox?.HasUnread == true;

    /// <summary>On close: whoever waits for room in the inbox goes on, to find the connection closed.</summary>
    public void End() => _inbox?.Budget.Cancel();

    /// <summary>Starts reading into the inbox. Called once; later calls do nothing.</summary>
    /// <exception cref="InvalidOperationException">A server reads this connection: its messages arrive through the server.</exception>
    public void Start()
    {
        ClientInbox inbox;
        lock (_lifetime.Gate)
        {
            if (_lifetime.ReadByServer)
                throw new InvalidOperationException($"Connection {_connection} belongs to a server; its messages arrive through the server, not through Receive.");
            if (_inbox is not null) return;
            // The loop delivers raw chunks: the inbox frames them when they are read, so they can be read as bytes too.
            _inbox = inbox = new ClientInbox(_connection.Framer, TcpConnection.DefaultReceiveBudget);
        }
        _ = new InboxReceiveLoop(_connection, inbox).RunAsync();
    }

    /// <summary>The next message from the peer, or null once the peer has closed the connection and everything was read.</summary>
    /// <exception cref="NetException">ReceiveTimeout when nothing arrives in time; Framing; the error that ended the connection.</exception>
    public async Task<TcpMessage?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Its reader already reported why it ended; what was received after the broken message is not framed.
        if (_connection.FramingFailed)
            throw new NetException(NetErrorKind.ConnectionClosed, _connection.PeerName, $"Connection {_connection} is closed: what it received broke its framing.");
        Start();
        byte[]? payload;
        try
        {
            payload = await WithTimeout(timeout, cancellationToken, "No message", token => _inbox!.ReadMessageAsync(token)).ConfigureAwait(false);
        }
        catch (NetException e) when (e.Kind != NetErrorKind.ReceiveTimeout)
        {
            _connection.Close();
            throw;
        }
        if (payload is null)
        {
            // Read to the end of what the peer sent: the conversation is over on this side too.
            _connection.Close();
            return null;
        }
        _connection.AddReceivedMessage();
        SwitchableFramer framer = _connection.Framer;
        return new TcpMessage(payload, _connection.Encoding, _connection, MessageDirection.Received) { Framing = framer.LastCutBy, LineEnding = framer.LastLineEnding };
    }

    /// <summary>
    /// Writes the bytes the peer sends to <paramref name="destination"/> exactly as they come (those
    /// received and not yet read first), until the peer closes or <paramref name="length"/> bytes.
    /// </summary>
    /// <param name="idleTimeout">Limit for each wait for more bytes.</param>
    /// <param name="progress">Called with the bytes written so far, from the thread pool.</param>
    /// <returns>The bytes written.</returns>
    public async Task<long> ReceiveToStreamAsync(Stream destination, long? length, TimeSpan idleTimeout, Action<long>? progress, CancellationToken cancellationToken)
    {
        Start();
        long copied;
        try
        {
            copied = await _inbox!.CopyToAsync(destination, length ?? long.MaxValue, idleTimeout, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new NetException(NetErrorKind.ReceiveTimeout, _connection.PeerName,
                $"No data from {_connection.RemoteEndPoint} within {idleTimeout.TotalSeconds:0.###} s.");
        }
        // Read to the end of what the peer sent: the conversation is over on this side too.
        if (length is null || copied < length) _connection.Close();
        return copied;
    }

    private async Task<T> WithTimeout<T>(TimeSpan timeout, CancellationToken cancellationToken, string what, Func<CancellationToken, Task<T>> read)
    {
        using var timer = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
        try
        {
            return await read(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new NetException(NetErrorKind.ReceiveTimeout, _connection.PeerName,
                $"{what} from {_connection.RemoteEndPoint} within {timeout.TotalSeconds:0.###} s.");
        }
        catch (FramingException e)
        {
            _connection.Abort();
            throw new NetException(NetErrorKind.Framing, _connection.PeerName, $"Connection {_connection}: {e.Message}", e);
        }
    }
}
