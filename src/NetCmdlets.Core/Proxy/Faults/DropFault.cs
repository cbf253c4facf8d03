using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>Drops <see cref="MessageFault.Rate"/> of the messages of a framing, whole: the peer sees the others as if the dropped ones were never sent.</summary>
public sealed class DropFault : MessageFault
{
    public DropFault(MessageFraming framing, double rate) : base(framing, rate)
    {
    }

    public override string Kind => "Drop";

    private protected override Task ActAsync(ArraySegment<byte> wire, int payloadOffset, int payloadCount, Func<ArraySegment<byte>, Task> next) =>
        Task.CompletedTask;
}
