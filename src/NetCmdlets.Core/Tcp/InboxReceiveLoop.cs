using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>A connection read on its own: raw chunks go to its inbox, framed when they are read.</summary>
internal sealed class InboxReceiveLoop : ReceiveLoop
{
    private readonly ClientInbox _inbox;

    public InboxReceiveLoop(TcpConnection connection, ClientInbox inbox)
        : base(connection, RawFramer.Shared)
    {
        _inbox = inbox;
    }

    protected override ByteBudget Untaken => _inbox.Budget;

    protected override Task DeliverAsync(ArraySegment<byte> payload) => _inbox.AddAsync(payload);

    protected override void Ended(NetException? error) => _inbox.End(error);
}
