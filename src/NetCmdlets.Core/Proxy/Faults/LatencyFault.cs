using System;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>Holds each chunk back for <see cref="LatencyMs"/>, give or take up to <see cref="JitterMs"/>.</summary>
public sealed class LatencyFault : TcpFault
{
    public LatencyFault(double latencyMs, double jitterMs = 0)
    {
        if (latencyMs < 0 || jitterMs < 0) throw new ArgumentOutOfRangeException(nameof(latencyMs), "Latency and jitter are not negative.");
        LatencyMs = latencyMs;
        JitterMs = jitterMs;
    }

    public double LatencyMs { get; }

    public double JitterMs { get; }

    public override string Kind => "Latency";

    internal override async Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        double jitter = JitterMs == 0 ? 0 : (FaultRandom.Next() * 2 - 1) * JitterMs;
        await Delay(Math.Max(0, LatencyMs + jitter)).ConfigureAwait(false);
        await next(chunk).ConfigureAwait(false);
    }
}
