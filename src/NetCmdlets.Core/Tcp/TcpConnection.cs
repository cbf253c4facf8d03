using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

public enum TcpConnectionRole
{
    Client,
    Server,
}

public enum TcpConnectionState
{
    Open,
    Closed,
}

/// <summary>
/// One TCP connection: a receive loop that frames incoming bytes into messages, and an ordered
/// send queue. Both run on the thread pool; nothing here blocks a thread while waiting for the network.
/// </summary>
public sealed class TcpConnection : TrafficCounters, IDisposable
{
    private static readonly ArraySegment<byte> s_waitForData = new(Array.Empty<byte>());
    private static int s_lastId;

    private readonly Socket _socket;
    private readonly ServerStatistics? _server;
    private readonly object _sendGate = new();
    private readonly Queue<PendingSend> _outgoing = new();
    private readonly TaskCompletionSource<bool> _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _sending;
    private bool _closeAfterSends;
    private int _holds;
    private NetException? _sendFailure;
    private int _closed;
    private BoundedQueue<ServerEvent>? _inbox;
    private bool _inboxEnded;

    internal TcpConnection(Socket socket, TcpConnectionRole role, IMessageFramer framer, Encoding encoding, ServerStatistics? server)
    {
        _socket = socket;
        _server = server;
        _socket.NoDelay = true; // request/reply traffic: do not hold small writes back for Nagle.
        Id = Interlocked.Increment(ref s_lastId);
        Role = role;
        Framer = framer;
        Encoding = encoding;
        RemoteEndPoint = EndPoints.Normalize(socket.RemoteEndPoint);
        LocalEndPoint = EndPoints.Normalize(socket.LocalEndPoint);
        ConnectedAt = DateTime.Now;
    }

    /// <summary>Unique in this process, in order of creation.</summary>
    public int Id { get; }

    public TcpConnectionRole Role { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public DateTime ConnectedAt { get; }

    public TcpConnectionState State => Volatile.Read(ref _closed) == 0 ? TcpConnectionState.Open : TcpConnectionState.Closed;

    public IMessageFramer Framer { get; }

    public Encoding Encoding { get; }

    /// <summary>Bytes queued for sending that the socket has not taken yet.</summary>
    public long PendingSendBytes { get; private set; }

    /// <summary>Completes when the receive loop ends: the peer closed, an error, or a local close.</summary>
    public Task Completion => _receiveEnded.Task;

    public override string ToString() => $"#{Id} {LocalEndPoint} <-> {RemoteEndPoint}";

    /// <summary>Reads messages until the peer closes or an error, handing each to <paramref name="queue"/> and waiting for room there.</summary>
    /// <remarks>
    /// Ends with a <see cref="ServerEventKind.Closed"/> event carrying the error, if any. Never throws.
    /// After a clean end the connection stays open for sending: a peer that half-closed still gets
    /// the replies to its last messages. Whoever takes the Closed event closes the connection.
    /// </remarks>
    public async Task ReceiveIntoAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken)
    {
        NetException? error = null;
        try
        {
            await ReceiveLoopAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (NetException e)
        {
            error = e;
        }
        catch (Exception) when (State == TcpConnectionState.Closed || cancellationToken.IsCancellationRequested)
        {
            // Closed on this side: the loop was meant to stop, unless a failed send closed it.
            error = _sendFailure;
        }
        catch (Exception e)
        {
            error = new NetException(NetErrorKind.SocketError, RemoteEndPoint.ToString(), $"Connection {this} failed: {e.Message}", e);
        }
        if (error is not null)
        {
            _server?.AddError();
            Abort();
        }
        _receiveEnded.TrySetResult(true);
        queue.EnqueueControl(ServerEvent.Closed(this, error));
    }

    /// <summary>
    /// For a client connection: starts reading into the connection's own inbox, from which
    /// <see cref="ReceiveAsync"/> takes messages. Called once; later calls do nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">A server reads this connection: its messages arrive through the server.</exception>
    public void StartReceiving(int capacity = 1024)
    {
        if (Role == TcpConnectionRole.Server)
            throw new InvalidOperationException($"Connection {this} belongs to a server; its messages arrive through the server, not through Receive.");
        lock (_sendGate)
        {
            if (_inbox is not null) return;
            _inbox = new BoundedQueue<ServerEvent>(capacity);
        }
        _ = ReceiveIntoAsync(_inbox, CancellationToken.None);
    }

    /// <summary>The next message from the peer, or null once the peer has closed the connection.</summary>
    /// <exception cref="NetException">ReceiveTimeout when nothing arrives in time; the error that ended the connection.</exception>
    public async Task<TcpMessage?> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        StartReceiving();
        if (_inboxEnded) return null;
        using var timer = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        if (timeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(timeout);
        ServerEvent next;
        try
        {
            next = await _inbox!.DequeueAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new NetException(NetErrorKind.ReceiveTimeout, RemoteEndPoint.ToString(),
                $"No message from {RemoteEndPoint} within {timeout.TotalSeconds:0.###} s.");
        }
        if (next.Kind == ServerEventKind.Message) return (TcpMessage)next.Message!;
        _inboxEnded = true;
        Close();
        if (next.Error is not null) throw next.Error;
        return null;
    }

    public TcpMessage? Receive(TimeSpan timeout, CancellationToken cancellationToken) =>
        Sync.Run(ReceiveAsync(timeout, cancellationToken));

    /// <summary>Frames <paramref name="payload"/> as one message and queues it; completes once the socket has taken it.</summary>
    public Task SendMessageAsync(byte[] payload, CancellationToken cancellationToken) =>
        SendAsync(Framer.Encode(new ArraySegment<byte>(payload)), 1, cancellationToken);

    /// <summary>Encodes and frames <paramref name="text"/> as one message.</summary>
    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendMessageAsync(Encoding.GetBytes(text), cancellationToken);

    public void SendText(string text, CancellationToken cancellationToken) => Sync.Run(SendTextAsync(text, cancellationToken));

    public void SendMessage(byte[] payload, CancellationToken cancellationToken) => Sync.Run(SendMessageAsync(payload, cancellationToken));

    /// <summary>Queues bytes that are already framed (or raw), counting them as <paramref name="messages"/> messages.</summary>
    /// <remarks>Sends keep their order. Cancelling stops the wait, not the send.</remarks>
    public Task SendAsync(byte[] wireBytes, int messages, CancellationToken cancellationToken)
    {
        var pending = new PendingSend(wireBytes, messages);
        bool startLoop;
        lock (_sendGate)
        {
            // While a reply is being prepared (Hold), a requested close waits for it.
            if (State == TcpConnectionState.Closed || (_closeAfterSends && _holds == 0))
                throw new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} is closed.");
            _outgoing.Enqueue(pending);
            PendingSendBytes += wireBytes.Length;
            startLoop = !_sending;
            _sending = true;
        }
        if (startLoop) _ = SendLoopAsync();
        return cancellationToken.CanBeCanceled ? WaitAsync(pending.Done.Task, cancellationToken) : pending.Done.Task;
    }

    /// <summary>Sends what is queued (and replies being prepared, see <see cref="Hold"/>), then closes gracefully.</summary>
    public void Close()
    {
        lock (_sendGate)
        {
            if (_sending || _holds > 0)
            {
                _closeAfterSends = true;
                return;
            }
        }
        CloseNow(graceful: true);
    }

    /// <summary>Closes gracefully, but at once after <paramref name="grace"/> if the peer does not take what is queued.</summary>
    public void Close(TimeSpan grace)
    {
        Close();
        if (State == TcpConnectionState.Open)
            _ = Task.Delay(grace).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    /// <summary>Keeps a requested close waiting until <see cref="Release"/>: a reply to this connection is being prepared elsewhere.</summary>
    public void Hold()
    {
        lock (_sendGate) _holds++;
    }

    public void Release()
    {
        bool closeNow;
        lock (_sendGate)
        {
            _holds--;
            closeNow = _holds == 0 && _closeAfterSends && !_sending;
        }
        if (closeNow) CloseNow(graceful: true);
    }

    /// <summary>Closes at once, dropping queued sends.</summary>
    public void Abort() => CloseNow(graceful: false);

    public void Dispose() => Close();

    private async Task ReceiveLoopAsync(BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken)
    {
        byte[]? buffer = null;
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (start == end)
                {
                    if (buffer is not null) ReceiveBuffers.Return(buffer);
                    buffer = null;
                    start = end = 0;
                    // A zero-byte read completes when data (or the end) arrives, without pinning a buffer meanwhile.
                    await ReadSocketAsync(s_waitForData).ConfigureAwait(false);
                    buffer = ReceiveBuffers.Rent();
                }
                else if (end == buffer!.Length)
                {
                    buffer = MakeRoom(buffer, ref start, ref end);
                }
                int read = await ReadSocketAsync(new ArraySegment<byte>(buffer, end, buffer.Length - end)).ConfigureAwait(false);
                if (read == 0)
                {
                    if (Framer.TryReadFinal(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> last))
                        await DeliverAsync(last, queue, cancellationToken).ConfigureAwait(false);
                    return;
                }
                end += read;
                AddReceivedBytes(read);
                _server?.AddReceivedBytes(read);
                while (start < end && Framer.TryRead(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> message, out int consumed))
                {
                    await DeliverAsync(message, queue, cancellationToken).ConfigureAwait(false);
                    start += consumed;
                }
            }
        }
        catch (FramingException e)
        {
            throw new NetException(NetErrorKind.Framing, RemoteEndPoint.ToString(), $"Connection {this}: {e.Message}", e);
        }
        finally
        {
            if (buffer is not null) ReceiveBuffers.Return(buffer);
        }
    }

    private static byte[] MakeRoom(byte[] buffer, ref int start, ref int end)
    {
        int count = end - start;
        // Half-used or more: a larger buffer, since the message being framed is long.
        byte[] target = start > buffer.Length / 2 ? buffer : new byte[buffer.Length * 2];
        Buffer.BlockCopy(buffer, start, target, 0, count);
        if (target != buffer) ReceiveBuffers.Return(buffer);
        start = 0;
        end = count;
        return target;
    }

    private async Task<int> ReadSocketAsync(ArraySegment<byte> into)
    {
        try
        {
            return await _socket.ReceiveAsync(into, SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException e) when (State == TcpConnectionState.Open)
        {
            throw NetException.FromSocket(e, RemoteEndPoint.ToString(), "Receiving from");
        }
    }

    private Task DeliverAsync(ArraySegment<byte> payload, BoundedQueue<ServerEvent> queue, CancellationToken cancellationToken)
    {
        var data = new byte[payload.Count];
        Buffer.BlockCopy(payload.Array!, payload.Offset, data, 0, payload.Count);
        AddReceivedMessage();
        _server?.AddReceivedMessage();
        return queue.EnqueueAsync(ServerEvent.ForMessage(new TcpMessage(data, Encoding, this, MessageDirection.Received)), cancellationToken);
    }

    private async Task SendLoopAsync()
    {
        var batch = new List<PendingSend>();
        while (true)
        {
            batch.Clear();
            bool close;
            lock (_sendGate)
            {
                while (_outgoing.Count > 0) batch.Add(_outgoing.Dequeue());
                if (batch.Count == 0)
                {
                    _sending = false;
                    close = _closeAfterSends && _holds == 0;
                }
                else
                {
                    close = false;
                }
            }
            if (batch.Count == 0)
            {
                if (close) CloseNow(graceful: true);
                return;
            }
            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                var error = e as NetException ?? new NetException(NetErrorKind.ConnectionReset, RemoteEndPoint.ToString(), $"Sending to {RemoteEndPoint} failed: {e.Message}", e);
                foreach (PendingSend failed in batch) failed.Done.TrySetException(error);
                FailQueuedSends(error);
                _sendFailure = error;
                _server?.AddError();
                Abort();
                return;
            }
        }
    }

    private async Task WriteBatchAsync(List<PendingSend> batch)
    {
        // Many small replies go out in one write: one system call, and fewer packets.
        byte[] bytes;
        if (batch.Count == 1)
        {
            bytes = batch[0].Bytes;
        }
        else
        {
            int total = 0;
            foreach (PendingSend item in batch) total += item.Bytes.Length;
            bytes = new byte[total];
            int at = 0;
            foreach (PendingSend item in batch)
            {
                Buffer.BlockCopy(item.Bytes, 0, bytes, at, item.Bytes.Length);
                at += item.Bytes.Length;
            }
        }
        int sent = 0;
        try
        {
            while (sent < bytes.Length)
                sent += await _socket.SendAsync(new ArraySegment<byte>(bytes, sent, bytes.Length - sent), SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw NetException.FromSocket(e, RemoteEndPoint.ToString(), "Sending to");
        }
        catch (ObjectDisposedException e)
        {
            throw new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} was closed before the data was sent.", e);
        }
        int messages = 0;
        foreach (PendingSend item in batch) messages += item.Messages;
        AddSent(messages, bytes.Length);
        _server?.AddSent(messages, bytes.Length);
        lock (_sendGate) PendingSendBytes -= bytes.Length;
        foreach (PendingSend item in batch) item.Done.TrySetResult(true);
    }

    private void FailQueuedSends(NetException error)
    {
        lock (_sendGate)
        {
            while (_outgoing.Count > 0) _outgoing.Dequeue().Done.TrySetException(error);
            PendingSendBytes = 0;
            _sending = false;
        }
    }

    private void CloseNow(bool graceful)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try
        {
            // Shutdown sends FIN after the queued bytes; without it Close may reset a connection with unread input.
            if (graceful) _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to say.
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        FailQueuedSends(new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} was closed before the data was sent."));
        _server?.ConnectionClosed();
    }

    private static async Task WaitAsync(Task task, CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken)))
        {
            await (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    private sealed class PendingSend
    {
        public PendingSend(byte[] bytes, int messages)
        {
            Bytes = bytes;
            Messages = messages;
        }

        public byte[] Bytes { get; }

        public int Messages { get; }

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
