using System;
using System.Threading;

namespace NetCmdlets.Core;

/// <summary>
/// Bytes a whole server holds for its connections in unfinished messages (a line whose line feed has not
/// come yet) and in replies queued and not yet written: one budget for all of them, so that many peers
/// each holding almost a maximum-length message cannot add up to more memory than the server allows.
/// Each connection's own limits (-MaxMessageLength, its send budget) still apply; this one bounds their sum.
/// </summary>
/// <remarks>
/// Going over calls <c>overLimit</c> (the server closes the connections that hold the most), on the thread
/// that went over. Receive loops, which hold no lock, grow under the trimming lock, so no loop reads on
/// while the server is over; a send, made under its connection's lock, never waits: it trims only when
/// nobody else does. Messages that are whole and wait for the consumer are
/// bounded by the server's queue instead, where a slow consumer pauses reading rather than closing anyone.
/// </remarks>
internal sealed class ServerBufferBudget
{
    private readonly Action _overLimit;
    private readonly object _trimming = new();
    private long _used;
    private long _peak;

    /// <param name="overLimit">Brings the server back under the limit; called under the budget's trimming lock.</param>
    public ServerBufferBudget(long limit, Action overLimit)
    {
        if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit));
        Limit = limit;
        _overLimit = overLimit;
    }

    public long Limit { get; }

    public long Used => Interlocked.Read(ref _used);

    /// <summary>The most held at once since the server started.</summary>
    public long Peak => Interlocked.Read(ref _peak);

    public bool IsOver => Used > Limit;

    /// <param name="mayWait">The caller holds no lock (a receive loop): it grows under the trimming lock.</param>
    public void Change(long delta, bool mayWait = false)
    {
        if (delta == 0) return;
        if (delta < 0)
        {
            Interlocked.Add(ref _used, delta);
            return;
        }
        if (mayWait)
        {
            // Receive loops grow one at a time, and the one that goes over trims before any grows again:
            // what they hold passes the limit by one growth at most.
            lock (_trimming)
            {
                Grow(delta);
                if (IsOver) _overLimit();
            }
            return;
        }
        Grow(delta);
        if (!IsOver || !Monitor.TryEnter(_trimming)) return;
        try
        {
            if (IsOver) _overLimit();
        }
        finally
        {
            Monitor.Exit(_trimming);
        }
    }

    private void Grow(long delta)
    {
        long now = Interlocked.Add(ref _used, delta);
        long peak;
        while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }
    }
}
