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
/// The sending side of one connection: payloads framed by the connection's framer, raw bytes as they
/// are, a file piece by piece, all through one <see cref="SendQueue"/>, made on the first send (an idle
/// connection that never sends holds none). Sends are accepted from any thread, while the connection's
/// lifetime takes them (<see cref="ConnectionLifetime.TakesSends"/>).
/// </summary>
internal sealed class ConnectionSender
{
    private readonly TcpConnection _connection;
    private readonly ConnectionLifetime _lifetime;
    private SendQueue? _queue;

    public ConnectionSender(TcpConnection connection, ConnectionLifetime lifetime)
    {
        _connection = connection;
        _lifetime = lifetime;
    }

    /// <summary>Sends are queued or being written. Read under the connection's lock.</summary>
    public bool Busy => _queue?.Busy == true;

    /// <summary>Bytes queued that the network has not taken yet.</summary>
    public long Pending => _queue?.Budget.Used ?? 0;

    /// <summary>The budget of bytes queued; null before the first send.</summary>
    public ByteBudget? Budget => _queue?.Budget;

    /// <summary>Under the lock: writes go to <paramref name="stream"/> from now on (TLS laid over the connection).</summary>
    public void UseStream(Stream stream) => _queue?.UseStream(stream);

    /// <summary>Under the lock: fails what is still queued (the connection closed).</summary>
    public void FailQueued(NetException error) => _queue?.FailQueued(error);

    /// <summary>Queues each item (payloads framed by the connection's framing, raw bytes as they are), in order.</summary>
    /// <returns>Completes once the network has taken the last one. Cancelling stops the wait, not the send.</returns>
    /// <exception cref="NetException">ConnectionClosed; Framing when a payload cannot be framed (too long for its
    /// length prefix, not the fixed size): then nothing of <paramref name="items"/> is queued.</exception>
    public Task SendAsync(IReadOnlyList<Outgoing> items, CancellationToken cancellationToken)
    {
        // Framed first, all of them, so a payload the framing cannot carry sends none of its batch.
        var wire = new byte[items.Count][];
        for (int i = 0; i < items.Count; i++)
        {
            try
            {
                wire[i] = items[i].IsRaw ? items[i].Bytes : _connection.Framer.Encode(new ArraySegment<byte>(items[i].Bytes));
            }
            catch (FramingException e)
            {
                throw new NetException(NetErrorKind.Framing, _connection.PeerName, $"Cannot send to {_connection.RemoteEndPoint} on connection {_connection.Id}: {e.Message}", e);
            }
        }
        Task last = Task.CompletedTask;
        for (int i = 0; i < wire.Length; i++) last = Enqueue(wire[i], wire[i].Length, items[i].IsRaw ? 0 : 1);
        return cancellationToken.CanBeCanceled ? WaitAsync(last, cancellationToken) : last;
    }

    /// <summary>Copies <paramref name="source"/> to the peer as it is, reading ahead no more than a few pieces; returns the bytes sent.</summary>
    /// <param name="progress">Called with the bytes sent so far.</param>
    /// <param name="stallTimeout">Limit for the network to take each piece: a peer that stops reading is a SendTimeout, not a hang.</param>
    /// <exception cref="NetException">SendTimeout; ConnectionClosed and other failures of the connection.</exception>
    public async Task<long> SendFromStreamAsync(Stream source, TimeSpan stallTimeout, Action<long>? progress, CancellationToken cancellationToken)
    {
        const int ChunkSize = 256 * 1024;
        long sent = 0;
        // Pooled pieces, each back in the pool once the network has taken it: no garbage per piece.
        var inFlight = new Queue<(Task Done, byte[] Chunk, int Bytes)>();
        try
        {
            while (true)
            {
                byte[] chunk = BufferPool.Rent(ChunkSize);
                int read;
                try
                {
                    read = await source.ReadAsync(chunk, 0, ChunkSize, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    BufferPool.Return(chunk);
                    throw;
                }
                if (read == 0)
                {
                    BufferPool.Return(chunk);
                    break;
                }
                inFlight.Enqueue((Enqueue(chunk, read, 0), chunk, read));
                // A few pieces ahead keep the socket busy; more would only hold memory.
                while (inFlight.Count >= 4 || (inFlight.Count > 0 && inFlight.Peek().Done.IsCompleted))
                    sent += await TakenAsync(inFlight.Dequeue(), stallTimeout, cancellationToken).ConfigureAwait(false);
                progress?.Invoke(sent);
            }
            while (inFlight.Count > 0) sent += await TakenAsync(inFlight.Dequeue(), stallTimeout, cancellationToken).ConfigureAwait(false);
            progress?.Invoke(sent);
            return sent;
        }
        finally
        {
            // Pieces still queued after a failure are dropped with the connection; only taken ones go back.
            foreach ((Task done, byte[] chunk, int _) in inFlight)
            {
                if (done.Status == TaskStatus.RanToCompletion) BufferPool.Return(chunk);
            }
        }
    }

    private async Task<int> TakenAsync((Task Done, byte[] Chunk, int Bytes) piece, TimeSpan stallTimeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        if (stallTimeout != Timeout.InfiniteTimeSpan) timer.CancelAfter(stallTimeout);
        try
        {
            await WaitAsync(piece.Done, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // What is queued cannot be taken back: the connection is of no further use.
            _connection.Abort();
            throw new NetException(NetErrorKind.SendTimeout, _connection.PeerName,
                $"{_connection.RemoteEndPoint} took nothing for {stallTimeout.TotalSeconds:0.###} s (it is not reading).");
        }
        BufferPool.Return(piece.Chunk);
        return piece.Bytes;
    }

    /// <summary>
    /// Queues a copy of <paramref name="bytes"/> to go out as they are, in a pooled buffer given back once
    /// written: a relay forwards what it reads this way, without waiting for the write.
    /// </summary>
    /// <exception cref="NetException">ConnectionClosed: the connection no longer takes sends.</exception>
    public void ForwardRaw(ArraySegment<byte> bytes)
    {
        byte[] copy = BufferPool.Rent(bytes.Count);
        Buffer.BlockCopy(bytes.Array!, bytes.Offset, copy, 0, bytes.Count);
        Task written;
        try
        {
            written = Enqueue(copy, bytes.Count, 0, pooled: true);
        }
        catch
        {
            BufferPool.Return(copy);
            throw;
        }
        // Its failure ends the connection, whose end reports it.
        if (!written.IsCompleted) _ = written.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Queues the first <paramref name="count"/> bytes of <paramref name="wireBytes"/>, holding <paramref name="messages"/> messages.</summary>
    /// <exception cref="NetException">ConnectionClosed: the connection no longer takes sends.</exception>
    private Task Enqueue(byte[] wireBytes, int count, int messages, bool pooled = false)
    {
        var pending = new PendingSend(wireBytes, count, messages, pooled);
        bool start;
        SendQueue queue;
        lock (_lifetime.Gate)
        {
            // While the consumer holds a lease (a reply is being made), a requested close waits for it.
            if (!_lifetime.TakesSends)
                throw new NetException(NetErrorKind.ConnectionClosed, _connection.PeerName,
                    _lifetime.RefusedAsHalfClosed ? $"Connection {_connection} has finished sending (half-closed)." : $"Connection {_connection} is closed.");
            queue = _queue ??= new SendQueue(_lifetime.Gate, _connection.Transport.Stream, _connection.PeerName, TcpConnection.DefaultSendBudget,
                _connection.OnSent, _connection.OnSendFailed, _connection.OnSendsIdle) { Budget = { Shared = _connection.Buffers } };
            start = queue.Add(pending);
        }
        if (start) StartWriting(queue);
        return pending.Done.Task;
    }

    /// <summary>
    /// The write loop starts on the thread pool, not on the caller's thread: the caller is most often the
    /// pipeline thread, which runs every handler in turn, and a write that completes at once would
    /// otherwise spend its system call there (more than half of that thread's time in the echo benchmark).
    /// </summary>
    private static void StartWriting(SendQueue queue)
    {
#if NET8_0_OR_GREATER
        ThreadPool.UnsafeQueueUserWorkItem(static sends => _ = sends.RunAsync(), queue, preferLocal: false);
#else
        ThreadPool.UnsafeQueueUserWorkItem(sends => _ = ((SendQueue)sends!).RunAsync(), queue);
#endif
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
