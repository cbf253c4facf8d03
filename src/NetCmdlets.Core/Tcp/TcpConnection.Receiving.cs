using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// The receiving side: the connection's one <see cref="ReceiveLoop"/>, delivering either to a server's
/// queue (framed there) or to the connection's own <see cref="ClientInbox"/> (framed when read).
/// </summary>
public sealed partial class TcpConnection
{
    /// <summary>Reads messages until the peer closes or an error, handing each to <paramref name="queue"/> and waiting for room there.</summary>
    /// <remarks>
    /// Ends with a <see cref="ServerEventKind.Closed"/> event carrying the error, if any. Never throws.
    /// After a clean end the connection stays open for sending: a peer that half-closed still gets
    /// the replies to its last messages. Whoever takes the Closed event closes the connection.
    /// Reading pauses while replies to this peer wait to be written past their budget, or while
    /// what it sent waits to be taken past its budget (see <see cref="MessageTaken"/>).
    /// </remarks>
    public Task ReceiveIntoAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken)
    {
        _lifetime.ReadByServer = true;
        return new ServerReceiveLoop(this, queue, cancellationToken).RunAsync();
    }

    /// <summary>For a connection read by a server: its consumer took a message of <paramref name="bytes"/> bytes.</summary>
    public void MessageTaken(int bytes) => _untaken.Release(bytes);

    /// <summary>
    /// For a connection not read by a server: starts reading into the connection's own inbox, from which
    /// <see cref="ReceiveAsync"/> and <see cref="ReceiveToStreamAsync"/> take. Called once; later calls do nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">A server reads this connection: its messages arrive through the server.</exception>
    public void StartReceiving()
    {
        ClientInbox inbox;
        lock (_gate)
        {
            if (_lifetime.ReadByServer)
                throw new InvalidOperationException($"Connection {this} belongs to a server; its messages arrive through the server, not through Receive.");
            if (_inbox is not null) return;
            // The loop delivers raw chunks: the inbox frames them when they are read, so they can be read as bytes too.
            _inbox = inbox = new ClientInbox(Framer, DefaultReceiveBudget);
        }
        _ = new InboxReceiveLoop(this, inbox).RunAsync();
    }

    /// <summary>The next message from the peer, or null once the peer has closed the connection and everything was read.</summary>
    /// <exception cref="NetException">ReceiveTimeout when nothing arrives in time; Framing; the error that ended the connection.</exception>
    public async Task<TcpMessage?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Its reader already reported why it ended; what was received after the broken message is not framed.
        if (FramingFailed)
            throw new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} is closed: what it received broke its framing.");
        StartReceiving();
        byte[]? payload;
        try
        {
            payload = await WithTimeout(timeout, cancellationToken, "No message", token => _inbox!.ReadMessageAsync(token)).ConfigureAwait(false);
        }
        catch (NetException e) when (e.Kind != NetErrorKind.ReceiveTimeout)
        {
            Close();
            throw;
        }
        if (payload is null)
        {
            // Read to the end of what the peer sent: the conversation is over on this side too.
            Close();
            return null;
        }
        AddReceivedMessage();
        return new TcpMessage(payload, Encoding, this, MessageDirection.Received) { Framing = Framer.LastCutBy, LineEnding = Framer.LastLineEnding };
    }

    public TcpMessage? Receive(TimeSpan timeout, CancellationToken cancellationToken) =>
        Sync.Run(ReceiveAsync(timeout, cancellationToken));

    /// <summary>
    /// Writes the bytes the peer sends to <paramref name="destination"/> exactly as they come (those
    /// received and not yet read first), until the peer closes or <paramref name="length"/> bytes.
    /// </summary>
    /// <param name="idleTimeout">Limit for each wait for more bytes.</param>
    /// <param name="progress">Called with the bytes written so far, from the thread pool.</param>
    /// <returns>The bytes written.</returns>
    public async Task<long> ReceiveToStreamAsync(Stream destination, long? length, TimeSpan idleTimeout, Action<long>? progress, CancellationToken cancellationToken)
    {
        StartReceiving();
        long copied;
        try
        {
            copied = await _inbox!.CopyToAsync(destination, length ?? long.MaxValue, idleTimeout, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new NetException(NetErrorKind.ReceiveTimeout, RemoteEndPoint.ToString(),
                $"No data from {RemoteEndPoint} within {idleTimeout.TotalSeconds:0.###} s.");
        }
        // Read to the end of what the peer sent: the conversation is over on this side too.
        if (length is null || copied < length) Close();
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
            throw new NetException(NetErrorKind.ReceiveTimeout, RemoteEndPoint.ToString(),
                $"{what} from {RemoteEndPoint} within {timeout.TotalSeconds:0.###} s.");
        }
        catch (FramingException e)
        {
            Abort();
            throw new NetException(NetErrorKind.Framing, RemoteEndPoint.ToString(), $"Connection {this}: {e.Message}", e);
        }
    }

    /// <summary>The receive loop ended, by the end of the stream (null) or by <paramref name="failure"/>: the error to report, if any.</summary>
    /// <param name="report">Told the error (or null) before the connection is aborted or closed: a peer that
    /// sees the reset and goes on elsewhere cannot get ahead of the report.</param>
    internal void ReceiveEnded(Exception? failure, CancellationToken stopping, Action<NetException?> report)
    {
        // This side ended it by a rule (a line that is not JSON, the idle limit): that is why, however the loop itself ended.
        NetException? error = EndedWith ?? failure switch
        {
            null => null,
            FramingException e => new NetException(NetErrorKind.Framing, RemoteEndPoint.ToString(), $"Connection {this}: {e.Message}", e),
            Tls.TlsException e => new NetException(NetErrorKind.Tls, RemoteEndPoint.ToString(), e.Message, e),
            // Closed on this side: the loop was meant to stop, unless a failed send closed it.
            _ when State == TcpConnectionState.Closed || stopping.IsCancellationRequested => _failure,
            _ => Errors.FromStream(failure, RemoteEndPoint.ToString(), "Receiving from"),
        };
        // Decided now, carried out after the report: with an error the connection is aborted (no close asked
        // for meanwhile turns that into a graceful one); after a clean end, both sides may have finished
        // sending, and then nothing is left to do on it but read what is queued.
        ConnectionLifetime.Action action;
        lock (_gate)
        {
            // Only a clean end is the peer's doing; otherwise the connection is being closed or aborted.
            if (failure is null) action = _lifetime.Decide(ConnectionLifetime.Request.PeerEnded, SendsBusy);
            else action = ConnectionLifetime.Action.None;
            if (error is not null) action = _lifetime.Decide(ConnectionLifetime.Request.Abort, SendsBusy);
        }
        if (error is not null)
        {
            // A TLS client on a plain port counts as a failed handshake; other failures stored were counted where they happened.
            if (failure is Tls.TlsException) _server?.AddTlsFailure();
            else if (!ReferenceEquals(error, _failure) && !ReferenceEquals(error, EndedWith)) _server?.AddError();
        }
        report(error);
        CarryOut(action);
    }

    /// <summary>Reading waits while replies to this peer, or what it sent and nobody took, are past their budgets.</summary>
    internal Task ReadyToRead(ByteBudget received)
    {
        Task taken = received.WaitForRoomAsync();
        SendQueue? sendQueue = _sends;
        // A server stops reading a peer that does not take its replies; a connection read on its own
        // must go on reading while its own sends wait, or a peer that echoes would deadlock with it.
        if (sendQueue is null || !_lifetime.ReadByServer) return taken;
        Task sends = sendQueue.Budget.WaitForRoomAsync();
        if (sends.IsCompleted) return taken;
        sends = EndIfSendsStallAsync(sends);
        return taken.IsCompleted ? sends : Task.WhenAll(sends, taken);
    }

    /// <summary>How long a server's connection may take nothing of its replies while its reading waits on them; set by the server.</summary>
    internal TimeSpan SendStallLimit { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Reading waits on replies the peer does not take. Its end (a FIN) cannot be read meanwhile, so the
    /// stall limit cannot wait for it: if no byte of the replies moves for <see cref="SendStallLimit"/>,
    /// the connection ends here, and its end reports why.
    /// </summary>
    private async Task EndIfSendsStallAsync(Task room)
    {
        if (SendStallLimit == Timeout.InfiniteTimeSpan)
        {
            await room.ConfigureAwait(false);
            return;
        }
        long sent = BytesSent;
        using var timer = new CancellationTokenSource();
        while (true)
        {
            Task limit = Task.Delay(SendStallLimit, timer.Token);
            if (await Task.WhenAny(room, limit).ConfigureAwait(false) == room)
            {
                timer.Cancel();
                await room.ConfigureAwait(false);
                return;
            }
            long now = BytesSent;
            if (now != sent)
            {
                sent = now;
                continue;
            }
            EndStalled();
            return;
        }
    }

    private long _unfinished;

    /// <summary>The server-wide budget its unfinished message and queued replies count against; set by a server before it starts the connection.</summary>
    internal ServerBufferBudget? Buffers { get; set; }

    /// <summary>Bytes it holds for its peer: the buffer of an unfinished message and the replies not yet written; 0 once closed.</summary>
    internal long HeldBytes => State == TcpConnectionState.Closed ? 0 : Interlocked.Read(ref _unfinished) + PendingSendBytes;

    /// <summary>The receive loop holds <paramref name="bytes"/> of buffer for a message not yet complete (0: none).</summary>
    internal void HoldUnfinished(int bytes)
    {
        // Called before every read: nothing to count without a budget, or when nothing changed.
        ServerBufferBudget? budget = Buffers;
        if (budget is null || (bytes == 0 && Interlocked.Read(ref _unfinished) == 0)) return;
        if (_lifetime.IsFinished) bytes = 0;
        long before = Interlocked.Exchange(ref _unfinished, bytes);
        // Only the receive loop calls this, holding no lock: it may wait for a trim of the server's buffers.
        budget.Change(bytes - before, mayWait: true);
    }

    internal TcpMessage NewReceived(ArraySegment<byte> payload)
    {
        AddReceivedMessage();
        _server?.AddReceivedMessage();
        return new TcpMessage(payload.ToBytes(), Encoding, this, MessageDirection.Received) { Framing = Framer.LastCutBy, LineEnding = Framer.LastLineEnding };
    }

    internal void OnReceived(int bytes)
    {
        Touch();
        AddReceivedBytes(bytes);
        _server?.AddReceivedBytes(bytes);
    }

    /// <summary>What the peer sent and the consumer has not taken; a server's receive loop waits while it is past its limit.</summary>
    internal ByteBudget Untaken => _untaken;

    /// <summary>The framing and its turns with the consumer.</summary>
    internal FramingTurns Turns => _turns;
}
