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
/// connection cuts its next message only once the one before it (and the connection's -OnConnect) has
/// been handled, which its consumer says with <see cref="Handled"/>; meanwhile it reads no further, and
/// TCP holds the peer back. A request-reply client never notices: its next request comes after the reply.
/// A connection read on its own frames when it is read, so it needs no turns.
/// Everything here changes under the connection's lock (<see cref="ConnectionLifetime.Gate"/>).
/// </remarks>
internal sealed class FramingTurns
{
    private readonly ConnectionLifetime _lifetime;
    private MessageFraming _framing;
    private MessageFraming? _deferredSendFraming;
    private int _releasesBeforeSwitch;
    private int _unhandled;
    private TaskCompletionSource<bool>? _handledWaiter;

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

    /// <summary>Messages handed to the consumer and not yet handled; read under the lock.</summary>
    public bool AnyUnhandled => _unhandled > 0;

    /// <summary>
    /// Frames what the peer sends from the next byte on with <paramref name="framing"/>: for good (what is
    /// sent too), or for the next received message only. While a reply is being made (the connection is
    /// held), what is sent switches only once that reply is queued (<see cref="Released"/>), so
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
            if (_lifetime.IsHeld)
            {
                // The replies being made now go out first; with parallel handlers a later message of the
                // connection may be held too by the time they are, and its reply is already in the new framing.
                _deferredSendFraming = framing;
                _releasesBeforeSwitch = _lifetime.Holds;
                return;
            }
            _deferredSendFraming = null;
            Framer.SwitchSending(framing);
        }
    }

    /// <summary>Under the lock, as each hold is released: once the replies made when the switch came are queued, it applies to sending.</summary>
    public void Released()
    {
        if (_deferredSendFraming is null || --_releasesBeforeSwitch > 0) return;
        Framer.SwitchSending(_deferredSendFraming);
        _deferredSendFraming = null;
    }

    /// <summary>A message (or the opening) goes to the consumer, who will say when it is handled.</summary>
    public void Handing()
    {
        // Counted on every server connection (the idle limit asks whether a message is still being handled);
        // waited on only by connections that frame in turn.
        lock (_lifetime.Gate) _unhandled++;
    }

    /// <summary>The consumer finished with a message (or with the opening): the next one may be cut.</summary>
    public void Handled()
    {
        TaskCompletionSource<bool>? wake = null;
        lock (_lifetime.Gate)
        {
            if (_unhandled > 0 && --_unhandled == 0)
            {
                wake = _handledWaiter;
                _handledWaiter = null;
            }
        }
        wake?.TrySetResult(true);
    }

    /// <summary>Completes once everything handed to the consumer has been handled, or the connection closed.</summary>
    public Task TurnAsync()
    {
        if (!InTurn) return Task.CompletedTask;
        lock (_lifetime.Gate)
        {
            if (_unhandled == 0 || _lifetime.IsFinished) return Task.CompletedTask;
            _handledWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _handledWaiter.Task;
        }
    }

    /// <summary>On close: a receive loop waiting for its turn goes on, to find the connection closed.</summary>
    public void End()
    {
        TaskCompletionSource<bool>? wake;
        lock (_lifetime.Gate)
        {
            wake = _handledWaiter;
            _handledWaiter = null;
        }
        wake?.TrySetResult(true);
    }
}
