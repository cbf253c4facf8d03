using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tls;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// How one connection ends, carried out: each request goes to <see cref="ConnectionLifetime.Decide"/>
/// under the connection's lock, and the action it gives back (FIN, a graceful close, an abort) is done
/// here, outside the lock. It also keeps why the connection ended, once (<see cref="EndedWith"/>): a rule
/// of this side (a broken JSON line, the idle limit, the buffer budget, a peer that takes no replies, a
/// failed STARTTLS), or the failure its reader or writer met; whoever reports the end reports that.
/// </summary>
internal sealed class ConnectionEnd
{
    private readonly TcpConnection _connection;
    private readonly ConnectionLifetime _lifetime;
    private readonly ServerStatistics? _server;
    private NetException? _endedWith;
    private NetException? _sendFailure;

    public ConnectionEnd(TcpConnection connection, ConnectionLifetime lifetime, ServerStatistics? server)
    {
        _connection = connection;
        _lifetime = lifetime;
        _server = server;
    }

    /// <summary>Why the connection ended, as its end reports it; null while open or after a clean end.</summary>
    public NetException? EndedWith => Volatile.Read(ref _endedWith);

    /// <summary>Set once what it received broke the framing where only its reader could tell.</summary>
    public bool FramingFailed { get; private set; }

    /// <summary>Decides <paramref name="request"/> under the lock, then does what it takes.</summary>
    public void Carry(ConnectionLifetime.Request request)
    {
        ConnectionLifetime.Action action;
        lock (_lifetime.Gate) action = _lifetime.Decide(request, _connection.Sender.Busy);
        CarryOut(action);
    }

    public void CarryOut(ConnectionLifetime.Action action)
    {
        switch (action)
        {
            case ConnectionLifetime.Action.ShutdownSend:
                _connection.Transport.ShutdownSend();
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

    /// <summary>Closes gracefully, but at once after <paramref name="grace"/> if the peer does not take what is queued.</summary>
    public void Close(TimeSpan grace)
    {
        Carry(ConnectionLifetime.Request.Close);
        if (!_lifetime.IsFinished)
            _ = Task.Delay(grace).ContinueWith(_ => Carry(ConnectionLifetime.Request.Abort), TaskScheduler.Default);
    }

    /// <summary>Closes gracefully, but at once if the peer takes nothing of what is queued for <paramref name="stallLimit"/>.</summary>
    public void CloseWhenSent(TimeSpan stallLimit)
    {
        Carry(ConnectionLifetime.Request.Close);
        if (!_lifetime.IsFinished) _ = AbortIfStalledAsync(stallLimit);
    }

    private async Task AbortIfStalledAsync(TimeSpan stallLimit)
    {
        long sent = _connection.BytesSent;
        while (true)
        {
            await Task.Delay(stallLimit).ConfigureAwait(false);
            if (_lifetime.IsFinished) return;
            long now = _connection.BytesSent;
            if (now == sent)
            {
                Carry(ConnectionLifetime.Request.Abort);
                return;
            }
            sent = now;
        }
    }

    /// <summary>The consumer returned a lease (see <see cref="TcpConnection.ReturnLease"/>): a close, a turn or an upgrade waiting for it may go on.</summary>
    public void ReturnLease()
    {
        ConnectionLifetime.Action action;
        Func<Task>? upgrade = null;
        TaskCompletionSource<bool>? turn;
        lock (_lifetime.Gate)
        {
            action = _lifetime.Return(_connection.Sender.Busy);
            turn = _connection.Turns.LeaseReturned();
            // Closing now: no upgrade to start on a connection that is ending.
            if (!_lifetime.IsLent && action == ConnectionLifetime.Action.None) upgrade = _connection.Upgrade.TakeDeferred();
        }
        turn?.TrySetResult(true);
        if (upgrade is not null) _ = upgrade().ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        CarryOut(action);
    }

    /// <summary>Nothing moved for <paramref name="idle"/>: closes gracefully, and its end reports IdleTimeout.</summary>
    public void EndIdle(TimeSpan idle)
    {
        var error = new NetException(NetErrorKind.IdleTimeout, _connection.PeerName,
            $"Connection {_connection} was idle for {idle.TotalSeconds:0.###} s (nothing moved either way), and the server closed it.");
        lock (_lifetime.Gate)
        {
            if (_endedWith is not null || _lifetime.Current == ConnectionLifetime.Phase.Closed) return;
            _endedWith = error;
        }
        _server?.AddIdleClosed();
        Carry(ConnectionLifetime.Request.Close);
    }

    /// <summary>The server holds more than its buffer budget and this connection holds the most: it ends at once, and its end reports why.</summary>
    public void EndOverBudget(ServerBufferBudget budget)
    {
        long held = _connection.HeldBytes;
        var error = new NetException(NetErrorKind.BufferLimit, _connection.PeerName,
            $"Connection {_connection} was closed: the server held {budget.Used:N0} bytes in unfinished messages and unsent replies, over its limit of {budget.Limit:N0} bytes (set by -MaxBufferedBytes), and this connection held the most ({held:N0} bytes).");
        bool first;
        lock (_lifetime.Gate)
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
        Carry(ConnectionLifetime.Request.Abort);
        _connection.HoldUnfinished(0);
    }

    /// <summary>The peer took nothing of its replies for <paramref name="stallLimit"/> while reading waited on them: it ends at once, and its end reports why.</summary>
    public void EndStalled(TimeSpan stallLimit)
    {
        var error = new NetException(NetErrorKind.SendTimeout, _connection.PeerName,
            $"Connection {_connection} took nothing of the {_connection.PendingSendBytes:N0} bytes of replies queued for it for {stallLimit.TotalSeconds:0.###} s (it is not reading), and the server closed it.");
        bool first;
        lock (_lifetime.Gate)
        {
            first = _endedWith is null && !_lifetime.IsFinished;
            if (first) _endedWith = error;
        }
        if (first) _server?.AddError();
        Carry(ConnectionLifetime.Request.Abort);
    }

    /// <summary>What was received broke the framing where only the reader can tell: the connection ends at once, and its end reports this error.</summary>
    public NetException FailFraming(FramingException error)
    {
        var failure = new NetException(NetErrorKind.Framing, _connection.PeerName, $"Connection {_connection}: {error.Message}", error);
        bool first;
        lock (_lifetime.Gate)
        {
            first = _endedWith is null && _sendFailure is null;
            FramingFailed = true;
            _endedWith ??= failure;
        }
        if (first) _server?.AddError();
        Carry(ConnectionLifetime.Request.Abort);
        return failure;
    }

    /// <summary>A handshake of an upgrade failed: the connection ends, and its end reports why.</summary>
    public NetException FailTls(TlsException failure)
    {
        var error = new NetException(NetErrorKind.Tls, _connection.PeerName, failure.Message, failure);
        bool first;
        lock (_lifetime.Gate)
        {
            // Closed meanwhile (the idle limit, a stop): that is why it failed, and it was counted then.
            first = _endedWith is null && !_lifetime.IsFinished;
            _endedWith ??= error;
        }
        if (first) _server?.AddTlsFailure();
        Carry(ConnectionLifetime.Request.Abort);
        return error;
    }

    /// <summary>A write failed: the connection ends.</summary>
    public void SendFailed(NetException error)
    {
        // Closed or aborted on this side while a write was under way: that is the close, not a failure.
        if (_lifetime.IsFinished) return;
        _sendFailure = error;
        _server?.AddError();
        Carry(ConnectionLifetime.Request.Abort);
    }

    /// <summary>The receive loop ended, by the end of the stream (null) or by <paramref name="failure"/>.</summary>
    /// <param name="report">Told the error (or null) before the connection is aborted or closed: a peer that
    /// sees the reset and goes on elsewhere cannot get ahead of the report.</param>
    public void ReceiveEnded(Exception? failure, CancellationToken stopping, Action<NetException?> report)
    {
        string peer = _connection.PeerName;
        // This side ended it by a rule (a line that is not JSON, the idle limit): that is why, however the loop itself ended.
        NetException? error = EndedWith ?? failure switch
        {
            null => null,
            FramingException e => new NetException(NetErrorKind.Framing, peer, $"Connection {_connection}: {e.Message}", e),
            TlsException e => new NetException(NetErrorKind.Tls, peer, e.Message, e),
            // Closed on this side: the loop was meant to stop, unless a failed send closed it.
            _ when _lifetime.IsFinished || stopping.IsCancellationRequested => _sendFailure,
            _ => Errors.FromStream(failure, peer, "Receiving from"),
        };
        bool counted = ReferenceEquals(error, _sendFailure) || ReferenceEquals(error, EndedWith);
        // Decided now, carried out after the report: with an error the connection is aborted (no close asked
        // for meanwhile turns that into a graceful one); after a clean end, both sides may have finished
        // sending, and then nothing is left to do on it but read what is queued.
        ConnectionLifetime.Action action;
        lock (_lifetime.Gate)
        {
            // Only a clean end is the peer's doing; otherwise the connection is being closed or aborted.
            action = failure is null ? _lifetime.Decide(ConnectionLifetime.Request.PeerEnded, _connection.Sender.Busy) : ConnectionLifetime.Action.None;
            if (error is not null)
            {
                action = _lifetime.Decide(ConnectionLifetime.Request.Abort, _connection.Sender.Busy);
                // The one report of why it ended: a reply made for it afterwards has nowhere to go, and says nothing more.
                _endedWith ??= error;
            }
        }
        if (error is not null)
        {
            // A TLS client on a plain port counts as a failed handshake; other failures stored were counted where they happened.
            if (failure is TlsException) _server?.AddTlsFailure();
            else if (!counted) _server?.AddError();
        }
        report(error);
        CarryOut(action);
    }

    private void CloseNow(bool graceful)
    {
        if (!_lifetime.TryFinish()) return;
        if (graceful) _connection.Transport.Close();
        else _connection.Transport.Abort();
        var closed = new NetException(NetErrorKind.ConnectionClosed, _connection.PeerName, $"Connection {_connection} was closed before the data was sent.");
        lock (_lifetime.Gate) _connection.Sender.FailQueued(closed);
        _connection.Untaken.Cancel();
        _connection.Reader.End();
        _connection.Turns.End();
        _connection.Upgrade.End();
        _server?.ConnectionClosed();
    }
}
