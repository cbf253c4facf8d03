using System;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Proxy;

/// <summary>
/// Reads one side of a proxied connection. Forwarding: each chunk goes to the other side's send queue as
/// it is read (no turn of anyone per chunk), and reading waits while the other side has more than its
/// send budget queued, so the slower side sets the pace; what passed may be shown besides. With a
/// consumer that decides: each framed message goes to the proxy's queue, and nothing is forwarded here.
/// </summary>
internal sealed class RelayReceiveLoop : ReceiveLoop
{
    private readonly ProxyPair _pair;
    private readonly bool _toServer;
    private readonly TcpConnection _destination;
    private readonly bool _consumerForwards;

    public RelayReceiveLoop(ProxyPair pair, bool toServer, TcpConnection source, TcpConnection destination, bool consumerForwards)
        : base(source, consumerForwards ? source.Framer : RawFramer.Shared)
    {
        _pair = pair;
        _toServer = toServer;
        _destination = destination;
        _consumerForwards = consumerForwards;
    }

    protected override ByteBudget Untaken => Connection.Untaken;

    protected override CancellationToken Stopping => _pair.Proxy.Stopping;

    protected override Task ReadyAsync()
    {
        if (_consumerForwards) return Untaken.WaitForRoomAsync();
        // The other side takes what is forwarded no faster than its peer reads it: wait for it, not for memory.
        return _destination.Sender.Budget?.WaitForRoomAsync() ?? Task.CompletedTask;
    }

    // A consumer that decides sees each message only after the one before it was forwarded, and its end
    // is passed on after its last message.
    protected override Task TurnAsync() => _consumerForwards ? Connection.Turns.TurnAsync() : Task.CompletedTask;

    protected override Task DeliverAsync(ArraySegment<byte> payload)
    {
        if (_consumerForwards) return _pair.Proxy.DeliverAsync(new TcpTraffic(payload.ToBytes(), Connection.Encoding, _pair, _toServer, leased: true), Connection);
        Task forwarded = _pair.Forward(_toServer, payload);
        Task observed = _pair.Observe(_toServer, payload);
        // Both done with the loop's buffer before it reads again.
        if (forwarded.IsCompleted && observed.IsCompleted) return observed.IsFaulted ? observed : forwarded;
        return Task.WhenAll(forwarded, observed);
    }

    protected override void Ended(NetException? error) => _pair.DirectionEnded(_toServer, error);
}
