using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// What a client connection has received and nobody has read yet, kept as the bytes that came (bounded:
/// a full inbox pauses the receive loop), and framed only when read. So a reader can take messages in
/// the connection's framing, or the exact bytes (to a file), in any order, and lose nothing.
/// One reader at a time.
/// </summary>
internal sealed class ClientInbox
{
    private readonly object _gate = new();
    private readonly Queue<ArraySegment<byte>> _chunks = new();
    private readonly IMessageFramer _framer;
    private TaskCompletionSource<bool>? _readerWaiting;
    private bool _ended;
    private NetException? _error;

    // The reader's side: bytes taken from the chunks and not yet consumed by the framer.
    private byte[] _pending = Array.Empty<byte>();
    private int _start, _end;
    private bool _finished;

    public ClientInbox(IMessageFramer framer, long budget)
    {
        _framer = framer;
        Budget = new ByteBudget(budget);
    }

    public ByteBudget Budget { get; }

    /// <summary>Bytes are here that nobody has read yet.</summary>
    public bool HasUnread
    {
        get
        {
            lock (_gate) return _chunks.Count > 0 || _end > _start;
        }
    }

    // ---- the receive loop's side ----

    public Task AddAsync(ArraySegment<byte> data)
    {
        byte[] copy = BufferPool.Rent(data.Count);
        Buffer.BlockCopy(data.Array!, data.Offset, copy, 0, data.Count);
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            _chunks.Enqueue(new ArraySegment<byte>(copy, 0, data.Count));
            wake = _readerWaiting;
            _readerWaiting = null;
        }
        Budget.Add(data.Count);
        wake?.TrySetResult(true);
        return Task.CompletedTask;
    }

    public void End(NetException? error)
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            if (_ended) return;
            _ended = true;
            _error = error;
            wake = _readerWaiting;
            _readerWaiting = null;
        }
        wake?.TrySetResult(true);
    }

    // ---- the reader's side ----

    /// <summary>The next message's payload in the connection's framing, or null at the end of the stream.</summary>
    /// <exception cref="FramingException">The bytes broke the framing.</exception>
    /// <exception cref="NetException">The error that ended the connection, once everything before it was read.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled while waiting.</exception>
    public async Task<byte[]?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_end > _start && _framer.TryRead(new ArraySegment<byte>(_pending, _start, _end - _start), out ArraySegment<byte> message, out int consumed))
            {
                byte[] payload = message.ToBytes();
                _start += consumed;
                return payload;
            }
            ArraySegment<byte>? chunk = await TakeChunkAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            if (chunk is null)
            {
                if (_finished) return null;
                _finished = true;
                bool last = _framer.TryReadFinal(new ArraySegment<byte>(_pending, _start, _end - _start), out ArraySegment<byte> rest);
                byte[]? payload = last ? rest.ToBytes() : null;
                _start = _end = 0;
                return payload;
            }
            Append(chunk.Value);
        }
    }

    /// <summary>
    /// Copies the bytes as they came to <paramref name="destination"/>, those already here first, until the
    /// end of the stream or <paramref name="limit"/> bytes; returns how many were copied.
    /// </summary>
    public async Task<long> CopyToAsync(Stream destination, long limit, TimeSpan idleTimeout, Action<long>? progress, CancellationToken cancellationToken)
    {
        long copied = 0;
        // Bytes the framer may have seen leave another way: it must look at what follows afresh.
        _framer.Reset();
        int fromPending = (int)Math.Min(_end - _start, limit);
        if (fromPending > 0)
        {
            await destination.WriteAsync(_pending, _start, fromPending, cancellationToken).ConfigureAwait(false);
            _start += fromPending;
            copied += fromPending;
            progress?.Invoke(copied);
        }
        while (copied < limit)
        {
            // The idle limit is for each wait for more bytes: a slow but steady transfer goes on.
            ArraySegment<byte>? next = await TakeChunkAsync(idleTimeout, cancellationToken).ConfigureAwait(false);
            if (next is null) break;
            ArraySegment<byte> chunk = next.Value;
            int take = (int)Math.Min(chunk.Count, limit - copied);
            try
            {
                await destination.WriteAsync(chunk.Array!, chunk.Offset, take, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Not written: the bytes stay for the next reader.
                Append(chunk);
                throw;
            }
            copied += take;
            // What is past the limit stays for the next reader, exactly as it came.
            if (take < chunk.Count) Append(new ArraySegment<byte>(chunk.Array!, chunk.Offset + take, chunk.Count - take), returnToPool: false);
            BufferPool.Return(chunk.Array!);
            progress?.Invoke(copied);
        }
        return copied;
    }

    /// <summary>The next chunk, or null at the end; the caller returns its array to the pool.</summary>
    /// <exception cref="TimeoutException">Nothing came within <paramref name="idleTimeout"/>.</exception>
    private async Task<ArraySegment<byte>?> TakeChunkAsync(TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task waiting;
            lock (_gate)
            {
                if (_chunks.Count > 0)
                {
                    ArraySegment<byte> chunk = _chunks.Dequeue();
                    Budget.Release(chunk.Count);
                    return chunk;
                }
                if (_ended)
                {
                    if (_error is not null) throw _error;
                    return null;
                }
                _readerWaiting ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting = _readerWaiting.Task;
            }
            if (!cancellationToken.CanBeCanceled && idleTimeout == Timeout.InfiniteTimeSpan)
            {
                await waiting.ConfigureAwait(false);
                continue;
            }
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken)))
            {
                Task idle = idleTimeout == Timeout.InfiniteTimeSpan ? cancelled.Task : Task.Delay(idleTimeout, cancellationToken);
                Task first = await Task.WhenAny(waiting, cancelled.Task, idle).ConfigureAwait(false);
                if (first == idle && !idle.IsCanceled) throw new TimeoutException();
                await first.ConfigureAwait(false);
            }
        }
    }

    private void Append(ArraySegment<byte> chunk, bool returnToPool = true)
    {
        int unread = _end - _start;
        if (_pending.Length - _end < chunk.Count)
        {
            // Compact, or grow when the unread part plus the chunk does not fit.
            byte[] target = unread + chunk.Count <= _pending.Length ? _pending : new byte[Math.Max(_pending.Length * 2, unread + chunk.Count)];
            Buffer.BlockCopy(_pending, _start, target, 0, unread);
            _pending = target;
            _start = 0;
            _end = unread;
        }
        Buffer.BlockCopy(chunk.Array!, chunk.Offset, _pending, _end, chunk.Count);
        _end += chunk.Count;
        if (returnToPool) BufferPool.Return(chunk.Array!);
    }
}
