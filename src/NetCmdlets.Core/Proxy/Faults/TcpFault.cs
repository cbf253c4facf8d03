using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Proxy.Faults;

/// <summary>Which way through a proxy a fault acts on.</summary>
public enum FaultDirection
{
    ClientToServer,
    ServerToClient,
    Both,
}

/// <summary>
/// One way a network misbehaves, applied by a proxy to what it forwards (Toxiproxy's toxics are the
/// model): each kind is a small type of its own, and a proxy chains the ones it has, in order. A fault
/// acts on a connection with its <see cref="Probability"/>, drawn once per connection and direction.
/// </summary>
public abstract class TcpFault
{
    /// <summary>Which way it acts on; both by default.</summary>
    public FaultDirection Direction { get; set; } = FaultDirection.Both;

    /// <summary>The share of connections it acts on, from 0 to 1; 1 by default.</summary>
    public double Probability { get; set; } = 1;

    /// <summary>Latency, Bandwidth, Slice, ResetAfter, CloseAfter, Timeout, Drop, Corrupt.</summary>
    public abstract string Kind { get; }

    internal bool ActsOn(bool toServer) => Direction == FaultDirection.Both || (Direction == FaultDirection.ClientToServer) == toServer;

    /// <summary>Passes <paramref name="chunk"/> on through <paramref name="next"/>, changed, in pieces or later, or not at all.</summary>
    /// <param name="run">This fault's state on one direction of one connection.</param>
    internal abstract Task ApplyAsync(FaultRun run, ArraySegment<byte> chunk, Func<ArraySegment<byte>, Task> next);

    /// <summary>The fault keeps bytes back that it passes on only at the end of the direction (an unfinished message).</summary>
    internal virtual bool HasPending(FaultRun run) => false;

    /// <summary>The direction ended cleanly: passes on what the fault kept back.</summary>
    internal virtual Task EndAsync(FaultRun run, Func<ArraySegment<byte>, Task> next) => Task.CompletedTask;

    public override string ToString() => $"{Kind} ({Direction}{(Probability < 1 ? $", {Probability:P0} of connections" : "")})";

    private protected static Task Delay(double milliseconds) => FaultClock.Delay(milliseconds);
}

/// <summary>
/// Waits as long as a fault says, as closely as a timer allows: a timer fires late (its clock ticks in
/// whole milliseconds, and the thread that runs what follows must be free), so each wait asks for less
/// by how late the waits before it were, learned as they go. The median wait then lands on what was
/// asked for, where a plain delay adds a millisecond or two to every one.
/// </summary>
internal static class FaultClock
{
    /// <summary>Lateness of the waits so far, in stopwatch ticks, as a running average.</summary>
    private static long s_lateTicks;

    private static readonly long s_maxLateTicks = Stopwatch.Frequency / 200;

    public static Task Delay(double milliseconds)
    {
        if (milliseconds <= 0) return Task.CompletedTask;
        long deadline = Stopwatch.GetTimestamp() + (long)(milliseconds * Stopwatch.Frequency / 1000);
        return DelayUntil(deadline);
    }

    private static async Task DelayUntil(long deadline)
    {
        long late = Volatile.Read(ref s_lateTicks);
        double wait = (deadline - late - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
        if (wait >= 0.5) await Task.Delay(TimeSpan.FromMilliseconds(wait)).ConfigureAwait(false);
        else if (deadline > Stopwatch.GetTimestamp()) await Task.Yield();
        long missed = Stopwatch.GetTimestamp() - deadline;
        // An eighth of the way toward this wait's lateness; racing updates lose one step, no more.
        long next = late + missed / 8;
        Volatile.Write(ref s_lateTicks, Math.Max(0, Math.Min(s_maxLateTicks, next)));
    }
}

/// <summary>A fault's state on one direction of one proxied connection.</summary>
internal sealed class FaultRun
{
    public FaultRun(ProxyPair pair, bool toServer, bool active)
    {
        Pair = pair;
        ToServer = toServer;
        Active = active;
    }

    public ProxyPair Pair { get; }

    public bool ToServer { get; }

    /// <summary>Drawn once with the fault's probability: whether it acts on this connection at all.</summary>
    public bool Active { get; }

    /// <summary>Bytes this fault has let through so far.</summary>
    public long Passed { get; set; }

    /// <summary>What the fault keeps between chunks (a message cut so far), its own to set.</summary>
    public object? State { get; set; }

    /// <summary>The fault has ended what it acts on (a reset, a close, a black hole): nothing more passes.</summary>
    public bool Stopped { get; set; }
}
