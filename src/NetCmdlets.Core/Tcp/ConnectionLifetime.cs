using System.Threading;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// How one connection ends, decided in one place: every close, half-close and abort goes through
/// <see cref="Decide"/>, under <see cref="Gate"/>, which the send queue locks too, so that from the
/// moment a close is decided no send is accepted and then dropped.
/// </summary>
/// <remarks>
/// A graceful close waits for what is queued to be written and for the leases its consumer holds
/// (<see cref="Lend"/>: a message, or the opening, whose replies are still being made); a half-close waits
/// for what is queued, then sends FIN. Whoever gets an action back carries it out outside the lock.
/// </remarks>
internal sealed class ConnectionLifetime
{
    /// <summary>Where this side is in ending the connection.</summary>
    public enum Phase
    {
        Open,

        /// <summary>A half-close was asked for: FIN goes once what is queued is written.</summary>
        SendClosing,

        /// <summary>FIN is sent (or being sent): this side sends no more, the peer may still.</summary>
        SendClosed,

        /// <summary>A graceful close was asked for: it happens once what is queued is written and nothing is held.</summary>
        Closing,

        /// <summary>Closed, or closing now: decided, nothing more to decide.</summary>
        Closed,
    }

    /// <summary>What happened that may end the connection.</summary>
    public enum Request
    {
        Close,
        CloseSend,
        Abort,

        /// <summary>The send queue wrote everything it had.</summary>
        SendsIdle,

        /// <summary>The consumer returned a lease: that message's replies are queued (<see cref="Return"/>).</summary>
        LeaseReturned,

        /// <summary>The peer finished sending (its FIN was read).</summary>
        PeerEnded,

        /// <summary>This side's FIN went out.</summary>
        SentFin,
    }

    /// <summary>What the caller must do, outside the lock.</summary>
    public enum Action
    {
        None,
        ShutdownSend,
        CloseGracefully,
        Abort,
    }

    private Phase _phase;
    private int _leases;
    private volatile bool _peerEnded;
    private int _finished;

    /// <summary>The connection's lock: its close decisions and its send queue's state change together.</summary>
    public object Gate { get; } = new();

    /// <summary>
    /// A server reads the connection (its receive loop delivers to the server's queue). Then the server
    /// decides when a connection whose peer has finished is done (once its replies are out); a connection
    /// read on its own closes when both sides have finished sending.
    /// </summary>
    public bool ReadByServer { get; set; }

    /// <summary>Read under the lock.</summary>
    public Phase Current => _phase;

    public bool PeerEnded => _peerEnded;

    /// <summary>The consumer holds a lease: replies to a message (or the opening) may still come. Read under the lock.</summary>
    public bool IsLent => _leases > 0;

    /// <summary>How many leases the consumer holds. Read under the lock.</summary>
    public int Leases => _leases;

    /// <summary>Closed, and its resources released (see <see cref="TryFinish"/>).</summary>
    public bool IsFinished => Volatile.Read(ref _finished) != 0;

    /// <summary>
    /// Whether a send may be queued now. Under the lock. While the consumer holds a lease, a requested
    /// close still takes its replies: the close waits for them.
    /// </summary>
    public bool TakesSends => _phase == Phase.Open || (_phase == Phase.Closing && _leases > 0);

    /// <summary>Why a send was refused, for its error.</summary>
    public bool RefusedAsHalfClosed => _phase is Phase.SendClosing or Phase.SendClosed && !IsFinished;

    /// <summary>A message (or the opening) goes to the consumer, which holds a lease on the connection until <see cref="Return"/>. Under the lock.</summary>
    public void Lend() => _leases++;

    /// <summary>Under the lock; the action is <see cref="Decide"/>'s for <see cref="Request.LeaseReturned"/>.</summary>
    public Action Return(bool sendsBusy)
    {
        if (_leases > 0) _leases--;
        return Decide(Request.LeaseReturned, sendsBusy);
    }

    /// <summary>Decides what <paramref name="request"/> means for the connection now. Call under <see cref="Gate"/>.</summary>
    /// <param name="sendsBusy">Sends are queued or being written.</param>
    public Action Decide(Request request, bool sendsBusy)
    {
        bool idle = !sendsBusy;
        switch (request)
        {
            case Request.Close:
                if (_phase == Phase.Closed) return Action.None;
                _phase = Phase.Closing;
                return CloseIfDone(idle);
            case Request.CloseSend:
                if (_phase != Phase.Open) return Action.None;
                if (!idle)
                {
                    _phase = Phase.SendClosing;
                    return Action.None;
                }
                _phase = Phase.SendClosed;
                return Action.ShutdownSend;
            case Request.SendsIdle:
                if (_phase == Phase.SendClosing)
                {
                    _phase = Phase.SendClosed;
                    return Action.ShutdownSend;
                }
                return _phase == Phase.Closing ? CloseIfDone(idle: true) : Action.None;
            case Request.LeaseReturned:
                return _phase == Phase.Closing ? CloseIfDone(idle) : Action.None;
            case Request.PeerEnded:
                _peerEnded = true;
                return _phase == Phase.SendClosed ? CloseIfBothEnded() : Action.None;
            case Request.SentFin:
                return _peerEnded ? CloseIfBothEnded() : Action.None;
            case Request.Abort:
                if (IsFinished) return Action.None;
                _phase = Phase.Closed;
                return Action.Abort;
            default:
                return Action.None;
        }
    }

    /// <summary>The one time the connection's resources are released; false when that was done already.</summary>
    public bool TryFinish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0) return false;
        lock (Gate) _phase = Phase.Closed;
        return true;
    }

    private Action CloseIfDone(bool idle)
    {
        if (!idle || _leases > 0) return Action.None;
        _phase = Phase.Closed;
        return Action.CloseGracefully;
    }

    private Action CloseIfBothEnded()
    {
        if (ReadByServer || _phase == Phase.Closed) return Action.None;
        _phase = Phase.Closed;
        return Action.CloseGracefully;
    }
}
