using System;
using System.Threading;

namespace NetCmdlets.Core;

/// <summary>
/// Counts work handed off and not yet finished (messages in parallel handlers), with a wait for "none
/// left". The count and the signal change under one lock: a finish that brings the count to zero must
/// not set "idle" after a new start has already counted one (a wait would return with work in flight).
/// </summary>
internal sealed class InFlightCounter : IDisposable
{
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _idle = new(true);
    private int _count;

    /// <summary>For tests: runs inside <see cref="Finished"/> between the count reaching zero and the idle signal.</summary>
    internal Action? BetweenCountAndSignal { get; set; }

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>The idle signal as it stands; true only when nothing is in flight.</summary>
    public bool IsIdle => _idle.IsSet;

    public void Started()
    {
        lock (_gate)
        {
            if (++_count == 1) _idle.Reset();
        }
    }

    public void Finished()
    {
        lock (_gate)
        {
            if (--_count != 0) return;
            BetweenCountAndSignal?.Invoke();
            _idle.Set();
        }
    }

    /// <summary>Waits until nothing is in flight.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public void WaitIdle(CancellationToken cancellationToken) => _idle.Wait(cancellationToken);

    public void Dispose() => _idle.Dispose();
}
