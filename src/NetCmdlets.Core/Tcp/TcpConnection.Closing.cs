using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// How a connection ends: each request goes to <see cref="ConnectionLifetime.Decide"/>, under the
/// connection's lock, and the action it gives back (FIN, a graceful close, an abort) is carried out here,
/// outside the lock. A graceful close first sends what is queued and waits for replies still being made
/// elsewhere (<see cref="Hold"/>); a half-close (<see cref="CloseSend"/>) ends only the sending side.
/// </summary>
public sealed partial class TcpConnection
{
    /// <summary>Sends what is queued (and replies being prepared, see <see cref="Hold"/>), then closes gracefully.</summary>
    public void Close() => Carry(ConnectionLifetime.Request.Close);

    /// <summary>Closes gracefully, but at once after <paramref name="grace"/> if the peer does not take what is queued.</summary>
    public void Close(TimeSpan grace)
    {
        Close();
        if (State != TcpConnectionState.Closed)
            _ = Task.Delay(grace).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    /// <summary>
    /// Closes gracefully, but at once if the peer takes nothing of what is queued for <paramref name="stallLimit"/>:
    /// a peer that has finished sending and never reads cannot hold the connection and its replies forever.
    /// </summary>
    public void CloseWhenSent(TimeSpan stallLimit)
    {
        Close();
        if (State != TcpConnectionState.Closed) _ = AbortIfStalledAsync(stallLimit);
    }

    private async Task AbortIfStalledAsync(TimeSpan stallLimit)
    {
        long sent = BytesSent;
        while (true)
        {
            await Task.Delay(stallLimit).ConfigureAwait(false);
            if (State == TcpConnectionState.Closed) return;
            long now = BytesSent;
            if (now == sent)
            {
                Abort();
                return;
            }
            sent = now;
        }
    }

    /// <summary>
    /// Half-close: after what is queued, tells the peer that this side has finished sending (TCP FIN).
    /// Reading goes on until the peer closes its side too.
    /// </summary>
    public void CloseSend() => Carry(ConnectionLifetime.Request.CloseSend);

    /// <summary>Keeps a requested close waiting until <see cref="Release"/>: a reply to this connection is being prepared elsewhere.</summary>
    public void Hold()
    {
        lock (_gate) _lifetime.Hold();
    }

    public void Release()
    {
        ConnectionLifetime.Action action;
        Func<Task>? upgrade = null;
        lock (_gate)
        {
            action = _lifetime.Release(SendsBusy);
            _turns.Released();
            // Closing now: no upgrade to start on a connection that is ending.
            if (!_lifetime.IsHeld && action == ConnectionLifetime.Action.None) upgrade = _upgrade.TakeDeferred();
        }
        if (upgrade is not null) _ = upgrade().ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        CarryOut(action);
    }

    /// <summary>Decides <paramref name="request"/> under the lock, then does what it takes.</summary>
    private void Carry(ConnectionLifetime.Request request)
    {
        ConnectionLifetime.Action action;
        lock (_gate) action = _lifetime.Decide(request, SendsBusy);
        CarryOut(action);
    }

    private void CarryOut(ConnectionLifetime.Action action)
    {
        switch (action)
        {
            case ConnectionLifetime.Action.ShutdownSend:
                _transport.ShutdownSend();
                // The peer had already finished: then the connection is done.
                Carry(ConnectionLifetime.Request.SentFin);
                break;
            case ConnectionLifetime.Action.CloseGracefully:
                CloseNow(graceful: true);
                break;
            case ConnectionLifetime.Action.Abort:
                CloseNow(graceful: false);
                break;
        }
    }

    /// <summary>Why this side ended the connection by a rule (a broken JSON line, the idle limit), for whoever reports its end.</summary>
    internal NetException? EndedWith => Volatile.Read(ref _endedWith);

    private NetException? _endedWith;
    private long _lastActivity = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>When a byte last moved either way (a Stopwatch timestamp).</summary>
    internal long LastActivity => Volatile.Read(ref _lastActivity);

    private void Touch() => Volatile.Write(ref _lastActivity, System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>A message of it is queued, being handled, or being answered: not idle, however long that takes.</summary>
    internal bool Working
    {
        get
        {
            lock (_gate) return _lifetime.IsHeld || SendsBusy || _turns.AnyUnhandled || _untaken.Used > 0 || _upgrade.Pending;
        }
    }

    /// <summary>Nothing moved for <paramref name="idle"/>: closes gracefully, and its end reports IdleTimeout.</summary>
    internal void EndIdle(TimeSpan idle)
    {
        var error = new NetException(NetErrorKind.IdleTimeout, RemoteEndPoint.ToString(),
            $"Connection {this} was idle for {idle.TotalSeconds:0.###} s (nothing moved either way), and the server closed it.");
        lock (_gate)
        {
            if (_endedWith is not null || _lifetime.Current == ConnectionLifetime.Phase.Closed) return;
            _endedWith = error;
        }
        _server?.AddIdleClosed();
        Close();
    }

    /// <summary>The server holds more than its buffer budget and this connection holds the most: it ends at once, and its end reports why.</summary>
    internal void EndOverBudget(ServerBufferBudget budget)
    {
        long held = HeldBytes;
        var error = new NetException(NetErrorKind.BufferLimit, RemoteEndPoint.ToString(),
            $"Connection {this} was closed: the server held {budget.Used:N0} bytes in unfinished messages and unsent replies, over its limit of {budget.Limit:N0} bytes (set by -MaxBufferedBytes), and this connection held the most ({held:N0} bytes).");
        bool first;
        lock (_gate)
        {
            first = _endedWith is null && !_lifetime.IsFinished;
            if (first) _endedWith = error;
        }
        if (first)
        {
            _server?.AddBufferLimitClosed();
            _server?.AddError();
        }
        // Even one already closing (its replies going out to a slow reader) gives its memory back now.
        Abort();
        HoldUnfinished(0);
    }

    /// <summary>The peer took nothing of its replies for the stall limit while reading waited on them: it ends at once, and its end reports why.</summary>
    private void EndStalled()
    {
        var error = new NetException(NetErrorKind.SendTimeout, RemoteEndPoint.ToString(),
            $"Connection {this} took nothing of the {PendingSendBytes:N0} bytes of replies queued for it for {SendStallLimit.TotalSeconds:0.###} s (it is not reading), and the server closed it.");
        bool first;
        lock (_gate)
        {
            first = _endedWith is null && !_lifetime.IsFinished;
            if (first) _endedWith = error;
        }
        if (first) _server?.AddError();
        Abort();
    }

    /// <summary>Closes at once, dropping queued sends.</summary>
    public void Abort() => Carry(ConnectionLifetime.Request.Abort);

    public void Dispose() => Close();

    private void CloseNow(bool graceful)
    {
        if (!_lifetime.TryFinish()) return;
        if (graceful) _transport.Close();
        else _transport.Abort();
        var closed = new NetException(NetErrorKind.ConnectionClosed, RemoteEndPoint.ToString(), $"Connection {this} was closed before the data was sent.");
        lock (_gate) _sends?.FailQueued(closed);
        _untaken.Cancel();
        _inbox?.Budget.Cancel();
        _turns.End();
        _upgrade.End();
        _server?.ConnectionClosed();
    }
}
