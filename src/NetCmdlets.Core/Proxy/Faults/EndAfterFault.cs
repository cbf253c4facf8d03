using System;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>
/// Lets <see cref="AfterBytes"/> through, then ends the connection, both sides: with a reset
/// (<see cref="Reset"/>), or with a clean close, as a server that crashes or hangs up mid-way.
/// </summary>
public sealed class EndAfterFault : TcpFault
{
    public EndAfterFault(long afterBytes, bool reset)
    {
        if (afterBytes < 0) throw new ArgumentOutOfRangeException(nameof(afterBytes), "The byte count is not negative.");
        AfterBytes = afterBytes;
        Reset = reset;
    }

    public long AfterBytes { get; }

    /// <summary>A reset (TCP RST) rather than a clean close.</summary>
    public bool Reset { get; }

    public override string Kind => Reset ? "ResetAfter" : "CloseAfter";

    internal override async Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        long room = AfterBytes - run.Passed;
        if (room > chunk.Count)
        {
            run.Passed += chunk.Count;
            await next(chunk).ConfigureAwait(false);
            return;
        }
        if (room > 0) await next(new ArraySegment<byte>(chunk.Array!, chunk.Offset, (int)room)).ConfigureAwait(false);
        run.Passed = AfterBytes;
        run.Stopped = true;
        // What was let through reaches the peer first.
        await run.Pair.Flush(run.ToServer).ConfigureAwait(false);
        run.Pair.EndByFault(Reset, $"{Kind} fault after {AfterBytes:N0} bytes");
    }
}
