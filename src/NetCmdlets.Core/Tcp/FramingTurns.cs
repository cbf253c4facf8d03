using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// One connection's framing and the turns it takes with its consumer: what cuts the bytes received and
/// wraps the messages sent, switched from the next byte on (HTTP: header lines, then a body of
/// Content-Length bytes; SMTP: lines, then a dot-terminated block).
/// </summary>
/// <remarks>
/// A server frames ahead of its consumer, so the next message may already be cut when a handler decides
/// to switch. A server whose handlers may switch therefore frames in turn (<see cref="InTurn"/>): a
/// connection cuts its next message only once the consumer has returned every lease it holds (the one
/// for the message before, and the one for the opening, see <see cref="ConnectionLifetime.Lend"/>);
/// meanwhile it reads no further, and TCP holds the peer back. A request-reply client never notices: its next request comes after the reply.
/// A connection read on its own frames when it is read, so it needs no turns.
/// Everything here changes under the connection's lock (<see cref="ConnectionLifetime.Gate"/>).
/// </remarks>
internal sealed class FramingTurns
{
    private readonly ConnectionLifetime _lifetime;
    private MessageFraming _framing;
    private MessageFraming? _deferredSendFraming;
    private int _returnsBeforeSwitch;
    private TaskCompletionSource<bool>? _turnWaiter;

    public FramingTurns(MessageFraming framing, ConnectionLifetime lifetime)
    {
        _framing = framing ?? throw new ArgumentNullException(nameof(framing));
        _lifetime = lifetime;
        Framer = new SwitchableFramer(framing);
    }

    /// <summary>The connection's own framer (framers keep per-connection state), which a switch replaces.</summary>
    public SwitchableFramer Framer { get; }

    /// <summary>How messages are cut and wrapped now.</summary>
    public MessageFraming Framing => _framing;

    /// <summary>The framing what is sent is wrapped in now (it lags <see cref="Framing"/> while a reply is made).</summary>
    public MessageFraming SendFraming => Framer.Sending;

    /// <summary>Set by a server before it starts the connection: see the remarks.</summary>
    public bool InTurn { get; set; }

    /// <summary>
    /// Frames what the peer sends from the next byte on with <paramref name="framing"/>: for good (what is
    /// sent too), or for the next received message only. While the consumer holds a lease (a reply is
    /// being made), what is sent switches only once that reply is queued (<see cref="LeaseReturned"/>), so
    /// "OK, switching" goes out in the framing the peer still expects.
    /// </summary>
    public void Switch(MessageFraming framing, bool nextMessageOnly)
    {
        if (framing is null) throw new ArgumentNullException(nameof(framing));
        // Under the lock, so two switches at once (parallel handlers) leave both directions agreeing.
        lock (_lifetime.Gate)
        {
            Framer.SwitchReceiving(framing, nextMessageOnly);
            if (nextMessageOnly) return;
            _framing = framing;
            if (_lifetime.IsLent)
            {
                // The replies being made now go out first; with parallel handlers a later message of the
                // connection may be lent out too by the time they are, and its reply is already in the new framing.
                _deferredSendFraming = framing;
                _returnsBeforeSwitch = _lifetime.Leases;
                return;
            }
            _deferredSendFraming = null;
            Framer.SwitchSending(framing);
        }
    }

    /// <summary>
    /// Under the lock, as the consumer returns each lease: once the replies made when a switch came are
    /// queued, it applies to sending; once no lease is out, a receive loop waiting for its turn may cut.
    /// </summary>
    /// <returns>The waiter to wake, outside the lock.</returns>
    public TaskCompletionSource<bool>? LeaseReturned()
    {
        if (_deferredSendFraming is not null && --_returnsBeforeSwitch <= 0)
        {
            Framer.SwitchSending(_deferredSendFraming);
            _deferredSendFraming = null;
        }
        if (_lifetime.IsLent) return null;
        TaskCompletionSource<bool>? wake = _turnWaiter;
        _turnWaiter = null;
        return wake;
    }

    /// <summary>Completes once the consumer holds no lease on the connection, or the connection closed.</summary>
    public Task TurnAsync()
    {
        if (!InTurn) return Task.CompletedTask;
        lock (_lifetime.Gate)
        {
            if (!_lifetime.IsLent || _lifetime.IsFinished) return Task.CompletedTask;
            _turnWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _turnWaiter.Task;
        }
    }

    /// <summary>On close: a receive loop waiting for its turn goes on, to find the connection closed.</summary>
    public void End()
    {
        TaskCompletionSource<bool>? wake;
        lock (_lifetime.Gate)
        {
            wake = _turnWaiter;
            _turnWaiter = null;
        }
        wake?.TrySetResult(true);
    }
}
