using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Framing from the outside: a switch from the next byte on, and the consumer saying it is done with a
/// message. The framing itself and its turns are <see cref="FramingTurns"/>.
/// </summary>
public sealed partial class TcpConnection
{
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
    public void SwitchFraming(MessageFraming framing, bool nextMessageOnly = false) => _turns.Switch(framing, nextMessageOnly);

    /// <summary>The framing what is sent is wrapped in now (it can lag <see cref="Framing"/> while a reply is made).</summary>
    internal MessageFraming SendFraming => _turns.SendFraming;

    /// <summary>
    /// A switch (or STARTTLS) applies exactly from the next byte: the connection is read on its own, or its
    /// server cuts each message only after the one before was handled. A server that frames ahead (no
    /// handler, or parallel handlers without -FrameInTurn) may have cut the next messages already.
    /// </summary>
    public bool SwitchIsExact => !_lifetime.ReadByServer || FramesInTurn;

    /// <summary>Set by a server before it starts the connection: its next message is cut only once the last was handled (see <see cref="FramingTurns"/>).</summary>
    internal bool FramesInTurn
    {
        get => _turns.InTurn;
        set => _turns.InTurn = value;
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
    public void MessageHandled() => _turns.Handled();

    /// <summary>A message (or the opening) goes to the consumer, who will say when it is handled (<see cref="MessageHandled"/>).</summary>
    internal void AwaitHandling() => _turns.Handing();
}
