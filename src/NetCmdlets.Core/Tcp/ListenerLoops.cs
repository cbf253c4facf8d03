using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// The two loops every TCP listener (Start-TcpServer's, Start-TcpProxy's) runs: accepting clients and
/// handing each on, and sweeping for connections idle past the limit. What is done with a client, and
/// what counts as idle, stays the listener's own.
/// </summary>
internal static class ListenerLoops
{
    /// <summary>
    /// Accepts until <paramref name="stopping"/>, handing each client to <paramref name="take"/> (which owns it
    /// from then on, and whose task the next accept waits for). A failure (out of descriptors, a client reset
    /// in the backlog) loses that client only: it is closed and counted, and accepting backs off a little
    /// longer each time in a row, so a lasting failure does not spin a core.
    /// </summary>
    public static async Task AcceptAsync(Socket listener, ServerStatistics statistics, CancellationToken stopping, Func<Socket, Task> take)
    {
        var backoff = new RetryBackoff();
        while (!stopping.IsCancellationRequested)
        {
            Socket? client = null;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
                await take(client).ConfigureAwait(false);
                backoff.Succeeded();
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // Stopped between accepting and handing the client on: nobody else would close it.
                client?.Dispose();
                return;
            }
            catch (Exception)
            {
                client?.Dispose();
                statistics.AddError();
                await backoff.FailedAsync(stopping).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Every few moments (a quarter of <paramref name="idle"/>, from 20 ms to a second) until
    /// <paramref name="stopping"/>, calls <paramref name="sweep"/> with the stopwatch's now and the limit in
    /// its ticks: whatever moved nothing for longer than that is idle.
    /// </summary>
    public static async Task SweepIdleAsync(TimeSpan idle, CancellationToken stopping, Action<long, long> sweep)
    {
        var period = TimeSpan.FromMilliseconds(Math.Max(20, Math.Min(1000, idle.TotalMilliseconds / 4)));
        long limit = (long)(idle.TotalSeconds * Stopwatch.Frequency);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            sweep(Stopwatch.GetTimestamp(), limit);
        }
    }
}
