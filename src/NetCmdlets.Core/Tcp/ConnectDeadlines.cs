using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// One clock for many connects with the same time limit (a port scan): instead of a timer each, which
/// costs about a quarter of a refused connect, each pending connect joins a queue in the order it
/// started, so in the order of its deadline, and one timer closes the sockets whose time is up. The
/// limit is kept to within a tick (a sixteenth of it, at most 50 ms).
/// </summary>
internal sealed class ConnectDeadlines : IDisposable
{
    private readonly long _timeoutTicks;
    private readonly ConcurrentQueue<Attempt> _pending = new();
    private readonly Timer _timer;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenRegistration _stopping;
    private volatile bool _disposed;

    public ConnectDeadlines(TimeSpan timeout, CancellationToken cancellationToken)
    {
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        TimeSpan tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, Math.Min(timeout.Ticks / 16, TimeSpan.FromMilliseconds(50).Ticks)));
        _cancellationToken = cancellationToken;
        _timer = new Timer(_ => Sweep(Stopwatch.GetTimestamp()), null, tick, tick);
        // A stop ends every attempt at once.
        _stopping = cancellationToken.Register(() => Sweep(long.MaxValue));
    }

    /// <summary>Starts the clock for a connect on <paramref name="socket"/> that did not finish at once.</summary>
    public Attempt Start(Socket socket)
    {
        var attempt = new Attempt(socket, Stopwatch.GetTimestamp() + _timeoutTicks);
        _pending.Enqueue(attempt);
        // Started just as the stop (or the end) came: the sweep for it may have run already.
        if (_cancellationToken.IsCancellationRequested || _disposed) Sweep(long.MaxValue);
        return attempt;
    }

    /// <summary>Ends every connect still on the clock, and any started later, at once.</summary>
    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        _stopping.Dispose();
        Sweep(long.MaxValue);
    }

    /// <summary>Expires the attempts at the head of the queue whose deadline is past; one sweep at a time, so each takes what it looked at.</summary>
    private void Sweep(long now)
    {
        lock (_pending)
        {
            while (_pending.TryPeek(out Attempt? attempt) && (attempt.IsSettled || attempt.Deadline <= now))
            {
                _pending.TryDequeue(out _);
                attempt.Expire();
            }
        }
    }

    /// <summary>One connect on the clock: it ends either by finishing (<see cref="Finish"/>) or by its time running out.</summary>
    internal sealed class Attempt
    {
        private const int Pending = 0;
        private const int Finished = 1;
        private const int Expired = 2;

        private readonly Socket _socket;
        private int _state;

        public Attempt(Socket socket, long deadline)
        {
            _socket = socket;
            Deadline = deadline;
        }

        public long Deadline { get; }

        public bool IsSettled => Volatile.Read(ref _state) != Pending;

        /// <summary>The connect ended by itself; false when the time had run out first (the socket is closed).</summary>
        public bool Finish() => Interlocked.CompareExchange(ref _state, Finished, Pending) == Pending;

        /// <summary>Closes the socket, which ends its connect, unless it finished already.</summary>
        public void Expire()
        {
            if (Interlocked.CompareExchange(ref _state, Expired, Pending) == Pending) _socket.Dispose();
        }
    }
}
