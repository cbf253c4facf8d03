using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// The ordered outgoing side of one connection: sends are queued from any thread and written by one
/// loop, small ones joined into one write. What is queued and not yet written counts against a byte
/// budget, which the connection's receive loop waits on, so a peer that does not read slows down
/// what it is sent instead of growing the server's memory.
/// </summary>
internal sealed class SendQueue
{
    /// <summary>Queued sends smaller than this are copied together into one write of up to this size.</summary>
    private const int JoinLimit = 64 * 1024;

    private readonly object _gate;
    private Stream _stream;
    private readonly string _peer;
    private readonly Queue<PendingSend> _items = new();
    private readonly Action<int, int> _sent;
    private readonly Action<NetException> _failed;
    private readonly Action _idle;
    private bool _running;

    /// <param name="gate">The connection's lock: its close decisions and this queue's state change together.</param>
    /// <param name="sent">Messages and bytes written, for the counters.</param>
    /// <param name="failed">A write failed: the connection ends.</param>
    /// <param name="idle">Everything queued was written; called without the lock held.</param>
    public SendQueue(object gate, Stream stream, string peer, long budget, Action<int, int> sent, Action<NetException> failed, Action idle)
    {
        _gate = gate;
        _stream = stream;
        _peer = peer;
        Budget = new ByteBudget(budget);
        _sent = sent;
        _failed = failed;
        _idle = idle;
    }

    public ByteBudget Budget { get; }

    /// <summary>From now on, writes go to <paramref name="stream"/> (TLS laid over the connection). Called under the lock, while idle.</summary>
    internal void UseStream(Stream stream) => _stream = stream;

    /// <summary>Sends are queued or being written. Read under the connection's lock.</summary>
    public bool Busy => _running;

    /// <summary>Queues bytes for the wire. Call under the connection's lock, after it decided the connection takes sends.</summary>
    /// <returns>True when the caller must start the loop (<see cref="RunAsync"/>) once the lock is released.</returns>
    public bool Add(PendingSend send)
    {
        _items.Enqueue(send);
        Budget.Add(send.Count);
        bool start = !_running;
        _running = true;
        return start;
    }

    /// <summary>Fails what is still queued (the connection closed). Call under the connection's lock.</summary>
    public void FailQueued(NetException error)
    {
        while (_items.Count > 0) _items.Dequeue().Fail(error);
        _running = false;
        Budget.Cancel();
    }

    public async Task RunAsync()
    {
        var batch = new List<PendingSend>();
        while (true)
        {
            batch.Clear();
            lock (_gate)
            {
                while (_items.Count > 0) batch.Add(_items.Dequeue());
                if (batch.Count == 0) _running = false;
            }
            if (batch.Count == 0)
            {
                _idle();
                return;
            }
            try
            {
                await WriteAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                NetException error = Errors.FromStream(e, _peer, "Sending to");
                foreach (PendingSend failed in batch) failed.Fail(error);
                // The connection ends first, so no send is accepted (and no second loop started) in between.
                _failed(error);
                lock (_gate) FailQueued(error);
                return;
            }
        }
    }

    private async Task WriteAsync(List<PendingSend> batch)
    {
        byte[]? joined = null;
        int used = 0;
        int from = 0;
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                byte[] bytes = batch[i].Bytes;
                int count = batch[i].Count;
                if (count < JoinLimit / 4)
                {
                    joined ??= BufferPool.Rent(JoinLimit);
                    if (used + count > joined.Length)
                    {
                        await WriteBytesAsync(joined, used).ConfigureAwait(false);
                        Completed(batch, from, i);
                        from = i;
                        used = 0;
                    }
                    Buffer.BlockCopy(bytes, 0, joined, used, count);
                    used += count;
                    continue;
                }
                // A large send goes as it is, after what was joined before it.
                if (used > 0)
                {
                    await WriteBytesAsync(joined!, used).ConfigureAwait(false);
                    Completed(batch, from, i);
                    from = i;
                    used = 0;
                }
                await WriteBytesAsync(bytes, count).ConfigureAwait(false);
                Completed(batch, from, i + 1);
                from = i + 1;
            }
            if (used > 0) await WriteBytesAsync(joined!, used).ConfigureAwait(false);
            Completed(batch, from, batch.Count);
        }
        finally
        {
            if (joined is not null) BufferPool.Return(joined);
        }
    }

    private void Completed(List<PendingSend> batch, int from, int to)
    {
        int messages = 0, bytes = 0;
        for (int i = from; i < to; i++)
        {
            messages += batch[i].Messages;
            bytes += batch[i].Count;
        }
        if (to == from) return;
        _sent(messages, bytes);
        Budget.Release(bytes);
        for (int i = from; i < to; i++) batch[i].Succeed();
    }

    private Task WriteBytesAsync(byte[] bytes, int count)
    {
#if NET8_0_OR_GREATER
        return _stream.WriteAsync(bytes.AsMemory(0, count)).AsTask();
#else
        return _stream.WriteAsync(bytes, 0, count);
#endif
    }
}

/// <summary>One queued send: bytes for the wire, how many messages they hold, and who waits for them.</summary>
internal sealed class PendingSend
{
    /// <param name="pooled">The bytes are a buffer of <see cref="BufferPool"/>, given back once written or dropped.</param>
    public PendingSend(byte[] bytes, int count, int messages, bool pooled = false)
    {
        Bytes = bytes;
        Count = count;
        Messages = messages;
        _pooled = pooled;
    }

    private readonly bool _pooled;

    public void Succeed()
    {
        if (_pooled) BufferPool.Return(Bytes);
        Done.TrySetResult(true);
    }

    public void Fail(Exception error)
    {
        if (_pooled) BufferPool.Return(Bytes);
        Done.TrySetException(error);
    }

    public byte[] Bytes { get; }

    /// <summary>How many bytes of <see cref="Bytes"/>, from the start, to send.</summary>
    public int Count { get; }

    public int Messages { get; }

    public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
