using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>
/// Corrupts <see cref="MessageFault.Rate"/> of the messages of a framing: one bit of one byte of the
/// payload flipped, the framing left whole, so the peer reads the same messages with one of them wrong
/// (what a checksum, a parser or a retry is there to catch).
/// </summary>
public sealed class CorruptFault : MessageFault
{
    public CorruptFault(MessageFraming framing, double rate) : base(framing, rate)
    {
    }

    public override string Kind => "Corrupt";

    private protected override Task ActAsync(ArraySegment<byte> wire, int payloadOffset, int payloadCount, Func<ArraySegment<byte>, Task> next)
    {
        if (payloadCount > 0) Corrupt(wire, payloadOffset, payloadCount);
        return next(wire);
    }

    private void Corrupt(ArraySegment<byte> wire, int payloadOffset, int payloadCount)
    {
        byte[] bytes = wire.Array!;
        // A flip that would end the message early or change its length (a line feed in a line, a digit of a
        // count) is tried again elsewhere: the peer must still read one message where one was sent.
        for (int attempt = 0; attempt < 16; attempt++)
        {
            int at = wire.Offset + payloadOffset + (int)(FaultRandom.Next() * payloadCount) % payloadCount;
            byte before = bytes[at];
            bytes[at] ^= (byte)(1 << ((int)(FaultRandom.Next() * 7) % 7));
            if (StillOneMessage(wire, payloadCount)) return;
            bytes[at] = before;
        }
    }

    private bool StillOneMessage(ArraySegment<byte> wire, int payloadCount)
    {
        try
        {
            IMessageFramer framer = Framing.CreateFramer();
            if (framer.TryRead(wire, out ArraySegment<byte> message, out int consumed))
                return consumed == wire.Count && message.Count == payloadCount;
            return framer.TryReadFinal(wire, out message) && message.Count == payloadCount;
        }
        catch (FramingException)
        {
            return false;
        }
    }
}
