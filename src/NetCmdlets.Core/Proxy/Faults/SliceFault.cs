using System;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>Cuts each chunk into writes of <see cref="SliceBytes"/>, <see cref="SliceDelayMs"/> apart: a peer must put messages together from small reads.</summary>
public sealed class SliceFault : TcpFault
{
    public SliceFault(int sliceBytes, double sliceDelayMs = 0)
    {
        if (sliceBytes < 1 || sliceDelayMs < 0) throw new ArgumentOutOfRangeException(nameof(sliceBytes), "Slices hold at least one byte, and the delay is not negative.");
        SliceBytes = sliceBytes;
        SliceDelayMs = sliceDelayMs;
    }

    public int SliceBytes { get; }

    public double SliceDelayMs { get; }

    public override string Kind => "Slice";

    internal override async Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        for (int offset = 0; offset < chunk.Count; offset += SliceBytes)
        {
            if (offset > 0) await Delay(SliceDelayMs).ConfigureAwait(false);
            // Each slice written on its own: the next waits until this one has gone out.
            await next(new ArraySegment<byte>(chunk.Array!, chunk.Offset + offset, Math.Min(SliceBytes, chunk.Count - offset))).ConfigureAwait(false);
            await run.Pair.Flush(run.ToServer).ConfigureAwait(false);
        }
    }
}
