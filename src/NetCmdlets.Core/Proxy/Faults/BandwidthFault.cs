using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>Lets no more than <see cref="KBps"/> kilobytes (1,024 bytes) a second through.</summary>
public sealed class BandwidthFault : TcpFault
{
    public BandwidthFault(double kbps)
    {
        if (kbps <= 0) throw new ArgumentOutOfRangeException(nameof(kbps), "The bandwidth is more than 0.");
        KBps = kbps;
    }

    public double KBps { get; }

    public override string Kind => "Bandwidth";

    internal override async Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        double bytesPerMs = KBps * 1024 / 1000;
        // Pieces of about 20 ms each, each let through once the time for the bytes before it has passed.
        int piece = (int)Math.Max(1, Math.Min(chunk.Count, bytesPerMs * 20));
        var clock = Stopwatch.StartNew();
        for (int offset = 0; offset < chunk.Count; offset += piece)
        {
            int count = Math.Min(piece, chunk.Count - offset);
            await Delay(offset / bytesPerMs - clock.Elapsed.TotalMilliseconds).ConfigureAwait(false);
            await next(new ArraySegment<byte>(chunk.Array!, chunk.Offset + offset, count)).ConfigureAwait(false);
        }
        await Delay(chunk.Count / bytesPerMs - clock.Elapsed.TotalMilliseconds).ConfigureAwait(false);
    }
}
