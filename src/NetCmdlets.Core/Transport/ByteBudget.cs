using System;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Transport;

/// <summary>
/// Bytes one connection has in flight in one direction (replies not yet written, messages not yet
/// taken), and a wait for one producer, the connection's receive loop, until they fall back under a
/// limit. This is what makes a slow consumer slow the peer down through TCP instead of growing memory.
/// </summary>
internal sealed class ByteBudget
{
    private readonly object _gate = new();
    private TaskCompletionSource<bool>? _waiter;
    private long _used;

    public ByteBudget(long limit) => Limit = limit;

    public long Limit { get; }

    public long Used => Interlocked.Read(ref _used);

    /// <summary>The server-wide budget these bytes count against too; null outside a server.</summary>
    public ServerBufferBudget? Shared { get; set; }

    public void Add(long bytes)
    {
        lock (_gate) _used += bytes;
        // Outside the lock: going over the server's budget trims, which takes other connections' locks.
        Shared?.Change(bytes);
    }

    public void Release(long bytes)
    {
        TaskCompletionSource<bool>? wake = null;
        long given;
        lock (_gate)
        {
            // After Cancel, bytes still in flight were given back already.
            given = Math.Min(bytes, Math.Max(_used, 0));
            _used -= bytes;
            // Wake at half the limit, not at the limit: one wake-up per half budget, not one per message.
            if (_waiter is not null && _used <= Limit / 2)
            {
                wake = _waiter;
                _waiter = null;
            }
        }
        Shared?.Change(-given);
        wake?.TrySetResult(true);
    }

    /// <summary>Completes at once when under the limit; otherwise once enough was released. For one waiter at a time.</summary>
    public Task WaitForRoomAsync()
    {
        lock (_gate)
        {
            if (_used <= Limit) return Task.CompletedTask;
            _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }

    /// <summary>Frees the waiter for good: the connection is gone.</summary>
    public void Cancel()
    {
        TaskCompletionSource<bool>? wake;
        long released;
        lock (_gate)
        {
            wake = _waiter;
            _waiter = null;
            released = _used;
            _used = 0;
        }
        Shared?.Change(-released);
        wake?.TrySetResult(true);
    }
}
