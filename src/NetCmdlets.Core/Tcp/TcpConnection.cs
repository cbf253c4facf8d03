using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

public enum TcpConnectionRole
{
    /// <summary>This side connected.</summary>
    Client,

    /// <summary>This side accepted (a server, or New-TcpConnection -Listen).</summary>
    Server,
}

public enum TcpConnectionState
{
    Open,

    /// <summary>This side has finished sending (a half-close); the peer may still send.</summary>
    SendClosed,

    /// <summary>The peer has finished sending; what it sent can still be read, and this side may still send.</summary>
    PeerClosed,

    Closed,
}

/// <summary>
/// One TCP connection over a <see cref="ConnectionTransport"/>: a receive loop (<see cref="ReceiveLoop"/>)
/// that frames what arrives, an ordered send queue (<see cref="SendQueue"/>), and the rules for closing
/// (here): a graceful close sends what is queued first, and waits for replies still being made (<see cref="Hold"/>).
/// </summary>
public sealed class TcpConnection : TrafficCounters, IDisposable
{
    /// <summary>Replies queued for a peer and not yet written, past which the connection stops reading that peer.</summary>
    public const long DefaultSendBudget = 4 * 1024 * 1024;

    /// <summary>Received bytes not yet taken by the reader, past which the connection stops reading.</summary>
    public const long DefaultReceiveBudget = 4 * 1024 * 1024;

    private static int s_lastId;

    private readonly ConnectionTransport _transport;
    private readonly ServerStatistics? _server;
    private readonly object _gate = new();
    private readonly SendQueue _sends;
    private readonly ByteBudget _untaken;
    private readonly TaskCompletionSource<bool> _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientInbox? _inbox;
    private bool _ownedByServer;
    private bool _closeRequested;
    private bool _closeDecided;
    private bool _sendShutdownRequested;
    private int _holds;
    private NetException? _sendFailure;
    private int _closed;
    private volatile bool _sendClosed;
    private volatile bool _peerClosed;

    public TcpConnection(ConnectionTransport transport, TcpConnectionRole role, MessageFraming framing, Encoding encoding, ServerStatistics? server = null)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _server = server;
        Id = Interlocked.Increment(ref s_lastId);
        Role = role;
        Framing = framing ?? throw new ArgumentNullException(nameof(framing));
        Framer = framing.CreateFramer();
        Encoding = encoding ?? throw new ArgumentNullException(nameof(encoding));
        RemoteEndPoint = transport.RemoteEndPoint;
        LocalEndPoint = transport.LocalEndPoint;
        ConnectedAt = DateTime.Now;
        _untaken = new ByteBudget(DefaultReceiveBudget);
        _sends = new SendQueue(_gate, transport.Stream, RemoteEndPoint.ToString(), DefaultSendBudget, OnSent, OnSendFailed, OnSendsIdle);
    }

    /// <summary>Unique in this process, in order of creation.</summary>
    public int Id { get; }

    public TcpConnectionRole Role { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public DateTime ConnectedAt { get; }

    public TcpConnectionState State =>
        Volatile.Read(ref _closed) != 0 ? TcpConnectionState.Closed
        : _sendClosed ? TcpConnectionState.SendClosed
        : _peerClosed ? TcpConnectionState.PeerClosed
        : TcpConnectionState.Open;

    /// <summary>How messages are cut and wrapped on this connection.</summary>
    public MessageFraming Framing { get; }

    public Encoding Encoding { get; }

    /// <summary>This connection's own framer (framers keep per-connection state).</summary>
    internal IMessageFramer Framer { get; }

    /// <summary>Bytes queued for sending that the network has not taken yet.</summary>
    public long PendingSendBytes => _sends.Budget.Used;

    /// <summary>Completes when the receive loop ends: the peer closed, an error, or a local close.</summary>
    internal Task Completion => _receiveEnded.Task;

    public override string ToString() => $"#{Id} {LocalEndPoint} <-> {RemoteEndPoint}";

    // ---------------------------------------------------------------- receiving

    /// <summary>Reads messages until the peer closes or an error, handing each to <paramref name="queue"/> and waiting for room there.</summary>
    /// <remarks>
    /// Ends with a <see cref="ServerEventKind.Closed"/> event carrying the error, if any. Never throws.
    /// After a clean end the connection stays open for sending: a peer that half-closed still gets
    /// the replies to its last messages. Whoever takes the Closed event closes the connection.
    /// Reading pauses while replies to this peer wait to be written past their budget, or while
    /// what it sent waits to be taken past its budget (see <see cref="MessageTaken"/>).
    /// </remarks>
    public async Task ReceiveIntoAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken)
    {
        _ownedByServer = true;
        var loop = new ReceiveLoop(_transport, Framer,
            payload =>
            {
                TcpMessage message = NewReceived(payload);
                _untaken.Add(message.Length);
                return queue.EnqueueAsync(ServerEvent.ForMessage(message), cancellationToken);
            },
            () => ReadyToRead(_untaken), OnReceived);
        NetException? error = await RunReceiveLoopAsync(loop, cancellationToken).ConfigureAwait(false);
        queue.EnqueueControl(ServerEvent.Closed(this, error));
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
            if (_ownedByServer)
                throw new InvalidOperationException($"Connection {this} belongs to a server; its messages arrive through the server, not through Receive.");
            if (_inbox is not null) return;
            // The loop delivers raw chunks: the inbox frames them when they are read, so they can be read as bytes too.
            _inbox = inbox = new ClientInbox(Framer, DefaultReceiveBudget);
        }
        _ = RunInboxAsync(inbox);
    }

    private async Task RunInboxAsync(ClientInbox inbox)
    {
        var loop = new ReceiveLoop(_transport, new RawFramer(), inbox.AddAsync, () => ReadyToRead(inbox.Budget), OnReceived);
        NetException? error = await RunReceiveLoopAsync(loop, CancellationToken.None).ConfigureAwait(false);
        inbox.End(error);
    }

    /// <summary>The next message from the peer, or null once the peer has closed the connection and everything was read.</summary>
    /// <exception cref="NetException">ReceiveTimeout when nothing arrives in time; Framing; the error that ended the connection.</exception>
    public async Task<TcpMessage?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
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
        return new TcpMessage(payload, Encoding, this, MessageDirection.Received);
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
        long limit = length ?? long.MaxValue;
        long copied = 0;
        // The idle limit restarts with every chunk: a long transfer is fine, a stalled one is not.
        while (copied < limit)
        {
            long before = copied;
            long chunk = await WithTimeout(idleTimeout, cancellationToken, "No data",
                token => _inbox!.CopyToAsync(destination, Math.Min(limit - copied, 1024 * 1024), p => progress?.Invoke(before + p), token)).ConfigureAwait(false);
            if (chunk == 0)
            {
                Close();
                break;
            }
            copied += chunk;
        }
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

    private async Task<NetException?> RunReceiveLoopAsync(ReceiveLoop loop, CancellationToken cancellationToken)
    {
        NetException? error = null;
        try
        {
            await loop.RunAsync().ConfigureAwait(false);
        }
        catch (FramingException e)
        {
            error = new NetException(NetErrorKind.Framing, RemoteEndPoint.ToString(), $"Connection {this}: {e.Message}", e);
        }
        catch (Exception) when (State == TcpConnectionState.Closed || cancellationToken.IsCancellationRequested)
        {
            // Closed on this side: the loop was meant to stop, unless a failed send closed it.
            error = _sendFailure;
        }
        catch (Exception e)
        {
            error = Errors.FromStream(e, RemoteEndPoint.ToString(), "Receiving from");
        }
        _peerClosed = true;
        if (error is not null)
        {
            _server?.AddError();
            Abort();
        }
        else if (_sendClosed && !_ownedByServer)
        {
            // Both sides have finished sending: nothing is left to do on this connection but read what is queued.
            CloseNow(graceful: true);
        }
        _receiveEnded.TrySetResult(true);
        return error;
    }

    /// <summary>Reading waits while replies to this peer, or what it sent and nobody took, are past their budgets.</summary>
    private Task ReadyToRead(ByteBudget received)
    {
        Task sends = _sends.Budget.WaitForRoomAsync();
        Task taken = received.WaitForRoomAsync();
        if (sends.IsCompleted) return taken;
        return taken.IsCompleted ? sends : Task.WhenAll(sends, taken);
    }

    private TcpMessage NewReceived(ArraySegment<byte> payload)
    {
        AddReceivedMessage();
        _server?.AddReceivedMessage();
        return new TcpMessage(payload.ToBytes(), Encoding, this, MessageDirection.Received);
    }

    private void OnReceived(int bytes)
    {
        AddReceivedBytes(bytes);
        _server?.AddReceivedBytes(bytes);
    }

    // ---------------------------------------------------------------- sending

    /// <summary>Queues each item (payloads framed by this connection's framing, raw bytes as they are), in order.</summary>
    /// <returns>Completes once the network has taken the last one. Cancelling stops the wait, not the send.</returns>
    /// <exception cref="NetException">ConnectionClosed: the connection no longer takes sends.</exception>
    public Task SendAsync(IReadOnlyList<Outgoing> items, CancellationToken cancellationToken)
    {
        Task last = Task.CompletedTask;
        foreach (Outgoing item in items)
            last = Enqueue(item.IsRaw ? item.Bytes : Framer.Encode(new ArraySegment<byte>(item.Bytes)), item.IsRaw ? 0 : 1);
        return cancellationToken.CanBeCanceled ? WaitAsync(last, cancellationToken) : last;
    }

    /// <summary>Frames <paramref name="payload"/> as one message and queues it; completes once the network has taken it.</summary>
    public Task SendMessageAsync(byte[] payload, CancellationToken cancellationToken) =>
        SendAsync(new[] { Outgoing.Payload(payload) }, cancellationToken);

    /// <summary>Encodes and frames <paramref name="text"/> as one message.</summary>
    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendMessageAsync(Encoding.GetBytes(text), cancellationToken);

    /// <summary>Queues <paramref name="bytes"/> to go out exactly as they are.</summary>
    public Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken) =>
        SendAsync(new[] { Outgoing.Raw(bytes) }, cancellationToken);

    public void SendText(string text, CancellationToken cancellationToken) => Sync.Run(SendTextAsync(text, cancellationToken));

    public void SendMessage(byte[] payload, CancellationToken cancellationToken) => Sync.Run(SendMessageAsync(payload, cancellationToken));

    /// <summary>Copies <paramref name="source"/> to the peer as it is, reading ahead no more than the send budget; returns the bytes sent.</summary>
    /// <param name="progress">Called with the bytes sent so far.</param>
    public async Task<long> SendFromStreamAsync(Stream source, Action<long>? progress, CancellationToken cancellationToken)
    {
        const int ChunkSize = 256 * 1024;
        long sent = 0;
        var inFlight = new Queue<(Task Done, int Bytes)>();
        while (true)
        {
            var chunk = new byte[ChunkSize];
            int read = await source.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            if (read < chunk.Length) Array.Resize(ref chunk, read);
            inFlight.Enqueue((Enqueue(chunk, 0), read));
            // A few chunks ahead keep the socket busy; more would only hold memory.
            while (inFlight.Count >= 4 || (inFlight.Count > 0 && inFlight.Peek().Done.IsCompleted))
            {
                (Task done, int bytes) = inFlight.Dequeue();
                await WaitAsync(done, cancellationToken).ConfigureAwait(false);
                sent += bytes;
                progress?.Invoke(sent);
            }
        }
        while (inFlight.Count > 0)
        {
            (Task done, int bytes) = inFlight.Dequeue();
            await WaitAsync(done, cancellationToken).ConfigureAwait(false);
            sent += bytes;
            progress?.Invoke(sent);
        }
        return sent;
    }

    private Task Enqueue(byte[] wireBytes, int messages)
    {
        var pending = new PendingSend(wireBytes, messages);
        bool start;
        lock (_gate)
        {
            // While a reply is being prepared (Hold), a requested close waits for it.
            if (_closeDecided || Volatile.Read(ref _closed) != 0 || _sendShutdownRequested || (_closeRequested && _holds == 0))
                throw new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(),
                    _sendShutdownRequested && Volatile.Read(ref _closed) == 0 ? $"Connection {this} has finished sending (half-closed)." : $"Connection {this} is closed.");
            start = _sends.Add(pending);
        }
        if (start) _ = _sends.RunAsync();
        return pending.Done.Task;
    }

    private void OnSent(int messages, int bytes)
    {
        AddSent(messages, bytes);
        _server?.AddSent(messages, bytes);
    }

    private void OnSendFailed(NetException error)
    {
        _sendFailure = error;
        _server?.AddError();
        Abort();
    }

    private void OnSendsIdle()
    {
        bool close, shutdown;
        lock (_gate)
        {
            close = _closeRequested && _holds == 0 && !_sends.Busy && !_closeDecided;
            if (close) _closeDecided = true;
            shutdown = !close && _sendShutdownRequested && !_sends.Busy && !_sendClosed;
            if (shutdown) _sendClosed = true;
        }
        if (close) CloseNow(graceful: true);
        else if (shutdown) ShutdownSendNow();
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Sends what is queued (and replies being prepared, see <see cref="Hold"/>), then closes gracefully.</summary>
    public void Close()
    {
        bool now;
        lock (_gate)
        {
            _closeRequested = true;
            // Decided under the lock: from here on a send is refused, not accepted and then failed.
            now = !_sends.Busy && _holds == 0 && !_closeDecided;
            if (now) _closeDecided = true;
        }
        if (now) CloseNow(graceful: true);
    }

    /// <summary>Closes gracefully, but at once after <paramref name="grace"/> if the peer does not take what is queued.</summary>
    public void Close(TimeSpan grace)
    {
        Close();
        if (State != TcpConnectionState.Closed)
            _ = Task.Delay(grace).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    /// <summary>
    /// Half-close: after what is queued, tells the peer that this side has finished sending (TCP FIN).
    /// Reading goes on until the peer closes its side too.
    /// </summary>
    public void CloseSend()
    {
        bool now;
        lock (_gate)
        {
            if (_sendShutdownRequested || _closeDecided) return;
            _sendShutdownRequested = true;
            now = !_sends.Busy;
            if (now) _sendClosed = true;
        }
        if (now) ShutdownSendNow();
    }

    /// <summary>Keeps a requested close waiting until <see cref="Release"/>: a reply to this connection is being prepared elsewhere.</summary>
    public void Hold()
    {
        lock (_gate) _holds++;
    }

    public void Release()
    {
        bool now;
        lock (_gate)
        {
            _holds--;
            now = _holds == 0 && _closeRequested && !_sends.Busy && !_closeDecided;
            if (now) _closeDecided = true;
        }
        if (now) CloseNow(graceful: true);
    }

    /// <summary>Closes at once, dropping queued sends.</summary>
    public void Abort() => CloseNow(graceful: false);

    public void Dispose() => Close();

    private void ShutdownSendNow()
    {
        _transport.ShutdownSend();
        // The peer had already finished: the connection is done.
        if (_peerClosed && !_ownedByServer) CloseNow(graceful: true);
    }

    private void CloseNow(bool graceful)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        lock (_gate) _closeDecided = true;
        if (graceful) _transport.Close();
        else _transport.Abort();
        var closed = new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} was closed before the data was sent.");
        lock (_gate) _sends.FailQueued(closed);
        _untaken.Cancel();
        _inbox?.Budget.Cancel();
        _server?.ConnectionClosed();
    }

    private static async Task WaitAsync(Task task, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            await task.ConfigureAwait(false);
            return;
        }
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken)))
        {
            await (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }
}
