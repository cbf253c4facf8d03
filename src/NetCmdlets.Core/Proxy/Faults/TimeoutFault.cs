using System;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>A black hole: nothing more gets through, and <see cref="TimeoutMs"/> after the first chunk it swallowed the connection is closed (0: never).</summary>
public sealed class TimeoutFault : TcpFault
{
    public TimeoutFault(double timeoutMs)
    {
        if (timeoutMs < 0) throw new ArgumentOutOfRangeException(nameof(timeoutMs), "The time is not negative.");
        TimeoutMs = timeoutMs;
    }

    public double TimeoutMs { get; }

    public override string Kind => "Timeout";

    internal override Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next)
    {
        if (!run.Stopped)
        {
            run.Stopped = true;
            if (TimeoutMs > 0)
                _ = Task.Delay(TimeSpan.FromMilliseconds(TimeoutMs)).ContinueWith(_ => run.Pair.EndByFault(reset: false, $"Timeout fault after {TimeoutMs:N0} ms"), TaskScheduler.Default);
        }
        return Task.CompletedTask;
    }
}

internal static class FaultRandom
{
    private static readonly Random s_random = new();

    /// <summary>A number from 0 to 1.</summary>
    public static double Next()
    {
        lock (s_random) return s_random.NextDouble();
    }
}
