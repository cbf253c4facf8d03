using System;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>
/// A fault that acts on whole messages of a framing rather than on chunks: what passes is cut into
/// messages, and each is chosen with <see cref="Rate"/> to be acted on (dropped, corrupted) or passed on
/// whole. Bytes that never form a message of the framing (a line past the limit, a broken prefix) pass
/// untouched from there on: the fault misbehaves as a network does, it does not judge the stream.
/// </summary>
public abstract class MessageFault : TcpFault
{
    private protected MessageFault(MessageFraming framing, double rate)
    {
        if (rate < 0 || rate > 1) throw new ArgumentOutOfRangeException(nameof(rate), "The rate is from 0 to 1.");
        Framing = framing ?? throw new ArgumentNullException(nameof(framing));
        Rate = rate;
    }

    /// <summary>How what passes is cut into messages.</summary>
    public MessageFraming Framing { get; }

    /// <summary>The share of messages acted on, from 0 to 1.</summary>
    public double Rate { get; }

    /// <summary>Does the fault to one chosen message: passes on <paramref name="wire"/> changed, or nothing.</summary>
    /// <param name="wire">The message as it came, framing included; the fault may change it in place.</param>
    /// <param name="payloadOffset">Where the payload starts in <paramref name="wire"/>.</param>
    /// <param name="payloadCount">The payload's length.</param>
    private protected abstract Task ActAsync(ArraySegment<byte> wire, int payloadOffset, int payloadCount, Func<ArraySegment<byte>, Task> next);

    internal override async Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        var cutter = (MessageCutter)(run.State ??= new MessageCutter(Framing.CreateFramer()));
        if (cutter.Broken)
        {
            await next(chunk).ConfigureAwait(false);
            return;
        }
        cutter.Append(chunk);
        while (cutter.TryNext(out ArraySegment<byte> wire, out int payloadOffset, out int payloadCount))
        {
            // The next message is cut only after this one went on: the cutter's buffer stays as it is meanwhile.
            if (Rate > 0 && (Rate >= 1 || FaultRandom.Next() < Rate)) await ActAsync(wire, payloadOffset, payloadCount, next).ConfigureAwait(false);
            else await next(wire).ConfigureAwait(false);
        }
        if (cutter.Broken && cutter.Pending) await next(cutter.TakeRest()).ConfigureAwait(false);
    }

    internal override bool HasPending(FaultRun run) => run.State is MessageCutter { Pending: true };

    internal override async Task EndAsync(FaultRun run, Func<ArraySegment<byte>, Task> next)
    {
        if (run.State is not MessageCutter cutter || !cutter.Pending) return;
        if (cutter.TryFinal(out ArraySegment<byte> wire, out int payloadOffset, out int payloadCount)
            && Rate > 0 && (Rate >= 1 || FaultRandom.Next() < Rate))
            await ActAsync(wire, payloadOffset, payloadCount, next).ConfigureAwait(false);
        else
            await next(wire).ConfigureAwait(false);
    }

    public override string ToString() => $"{Kind} {Rate:P0} of {Framing.Name} messages ({Direction}{(Probability < 1 ? $", {Probability:P0} of connections" : "")})";

    /// <summary>Keeps what passed one way until it forms messages of the framing.</summary>
    private sealed class MessageCutter
    {
        private readonly IMessageFramer _framer;
        private readonly UnframedBytes _kept = new();

        public MessageCutter(IMessageFramer framer) => _framer = framer;

        /// <summary>The bytes broke the framing: from here on everything passes as it comes.</summary>
        public bool Broken { get; private set; }

        /// <summary>Bytes of an unfinished message are kept.</summary>
        public bool Pending => _kept.Any;

        public void Append(ArraySegment<byte> chunk) => _kept.Append(chunk);

        public bool TryNext(out ArraySegment<byte> wire, out int payloadOffset, out int payloadCount)
        {
            wire = default;
            payloadOffset = payloadCount = 0;
            if (Broken || !_kept.Any) return false;
            ArraySegment<byte> kept = _kept.Kept;
            ArraySegment<byte> message;
            int consumed;
            try
            {
                if (!_framer.TryRead(kept, out message, out consumed)) return false;
            }
            catch (FramingException)
            {
                Broken = true;
                return false;
            }
            // The message's bytes stay where they are until the next Append: the caller passes them on first.
            wire = new ArraySegment<byte>(kept.Array!, kept.Offset, consumed);
            payloadOffset = message.Offset - kept.Offset;
            payloadCount = message.Count;
            _kept.Consume(consumed);
            return true;
        }

        /// <summary>At the end of the direction: what is left, and the last unterminated message in it if the framing allows one.</summary>
        public bool TryFinal(out ArraySegment<byte> wire, out int payloadOffset, out int payloadCount)
        {
            wire = TakeRest();
            payloadOffset = payloadCount = 0;
            if (Broken) return false;
            try
            {
                if (!_framer.TryReadFinal(wire, out ArraySegment<byte> message)) return false;
                payloadOffset = message.Offset - wire.Offset;
                payloadCount = message.Count;
                return true;
            }
            catch (FramingException)
            {
                return false;
            }
        }

        /// <summary>What is kept, taken out: the caller passes it on before anything is appended.</summary>
        public ArraySegment<byte> TakeRest()
        {
            ArraySegment<byte> rest = _kept.Kept;
            _kept.Clear();
            return rest;
        }
    }
}
