using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Switching a connection's framing from the next byte on (HTTP: header lines, then a body of
/// Content-Length bytes; SMTP: lines, then a dot-terminated block).
/// </summary>
/// <remarks>
/// A server frames ahead of its consumer, so the next message may already be cut when a handler decides
/// to switch. A server whose handlers may switch therefore frames in turn (<see cref="FramesInTurn"/>):
/// a connection cuts its next message only once the one before it (and the connection's -OnConnect)
/// has been handled, which its consumer says with <see cref="MessageHandled"/>; meanwhile it reads no
/// further, and TCP holds the peer back. A request-reply client never notices: its next request comes
/// after the reply. A connection read on its own frames when it is read, so it needs no turns.
/// </remarks>
public sealed partial class TcpConnection
{
    private MessageFraming _framing;
    private MessageFraming? _deferredSendFraming;
    private int _unhandled;
    private TaskCompletionSource<bool>? _handledWaiter;

    /// <summary>Set by a server before it starts the connection: see the remarks of this part.</summary>
    internal bool FramesInTurn { get; set; }

    /// <summary>
    /// Frames what the peer sends from the next byte on with <paramref name="framing"/>: for good (what is
    /// sent too), or for the next received message only (<paramref name="nextMessageOnly"/>), after which
    /// the connection's framing reads on and sending keeps it throughout.
    /// </summary>
    /// <remarks>
    /// While a reply to this connection is being made (<see cref="Hold"/>: a handler runs for one of its
    /// messages), what is sent switches only once that reply is queued: "OK, switching" goes out in the
    /// framing the peer still expects, as STARTTLS's "220 Ready" does.
    /// </remarks>
    public void SwitchFraming(MessageFraming framing, bool nextMessageOnly = false)
    {
        if (framing is null) throw new ArgumentNullException(nameof(framing));
        // Under the lock, so two switches at once (parallel handlers) leave both directions agreeing.
        lock (_gate)
        {
            Framer.SwitchReceiving(framing, nextMessageOnly);
            if (nextMessageOnly) return;
            _framing = framing;
            if (_holds > 0)
            {
                _deferredSendFraming = framing;
                return;
            }
            _deferredSendFraming = null;
            Framer.SwitchSending(framing);
        }
    }

    /// <summary>The framing what is sent is wrapped in now (it can lag <see cref="Framing"/> while a reply is made).</summary>
    internal MessageFraming SendFraming => Framer.Sending;

    /// <summary>Called under the lock when the last hold is released: a switch made meanwhile now applies to sending.</summary>
    private void ApplyDeferredSwitch()
    {
        if (_deferredSendFraming is null) return;
        Framer.SwitchSending(_deferredSendFraming);
        _deferredSendFraming = null;
    }

    /// <summary>Set once the connection ended because what it received broke the framing where only its reader could tell.</summary>
    public bool FramingFailed { get; private set; }


    /// <summary>
    /// What was received broke the framing where only the reader can tell (a JSON line that is not JSON):
    /// the connection ends at once, and its end reports this error (a server's Closed event carries it).
    /// </summary>
    /// <returns>The error, to report where there is no server.</returns>
    public NetException FailFraming(FramingException error)
    {
        var failure = new NetException(NetErrorKind.Framing, RemoteEndPoint.ToString(), $"Connection {this}: {error.Message}", error);
        bool first;
        lock (_gate)
        {
            first = _endedWith is null && _failure is null;
            FramingFailed = true;
            _endedWith ??= failure;
        }
        if (first) _server?.AddError();
        Abort();
        return failure;
    }

    /// <summary>The connection's consumer finished with a message (or with its opening): the next one may be cut.</summary>
    public void MessageHandled()
    {
        TaskCompletionSource<bool>? wake = null;
        lock (_gate)
        {
            if (_unhandled > 0 && --_unhandled == 0)
            {
                wake = _handledWaiter;
                _handledWaiter = null;
            }
        }
        wake?.TrySetResult(true);
    }

    /// <summary>A message (or the opening) goes to the consumer, who will say when it is handled.</summary>
    internal void AwaitHandling()
    {
        // Counted on every server connection (the idle limit asks whether a message is still being handled);
        // waited on only by connections that frame in turn.
        lock (_gate) _unhandled++;
    }

    /// <summary>Completes once everything handed to the consumer has been handled, or the connection closed.</summary>
    internal Task HandledAsync()
    {
        if (!FramesInTurn) return Task.CompletedTask;
        lock (_gate)
        {
            if (_unhandled == 0 || Volatile.Read(ref _closed) != 0) return Task.CompletedTask;
            _handledWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _handledWaiter.Task;
        }
    }

    /// <summary>On close: a receive loop waiting for its turn goes on, to find the connection closed.</summary>
    private void EndTurns()
    {
        TaskCompletionSource<bool>? wake;
        lock (_gate)
        {
            wake = _handledWaiter;
            _handledWaiter = null;
        }
        wake?.TrySetResult(true);
    }
}
