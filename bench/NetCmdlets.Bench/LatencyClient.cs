using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// One connection, one line at a time: each round trip timed on its own, after a few to warm up, and
/// the median, the 10th and the 90th percentile printed, in milliseconds. For what a relay or a fault
/// adds to one round trip, not for how many fit in a second.
/// </summary>
internal static class LatencyClient
{
    public static async Task<int> RunAsync(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int count = options.Int("count", 100);
        int warmup = (int)options.Double("warmup", 5);
        int size = options.Int("size", 64);
        if (endPoint.Port == 0 || count < 1 || size < 1) throw new ArgumentException("--port, --count and --size must be positive");
        byte[] line = new byte[size];
        line.AsSpan().Fill((byte)'x');
        line[size - 1] = (byte)'\n';
        var reply = new byte[Math.Max(4096, size * 2)];
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).ConfigureAwait(false);
        var times = new List<double>(count);
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + count; i++)
        {
            clock.Restart();
            int sent = 0;
            while (sent < size) sent += await socket.SendAsync(line.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
            int received = 0;
            while (received < size)
            {
                int read = await socket.ReceiveAsync(reply.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
                if (read == 0) throw new InvalidOperationException("the server closed the connection");
                received += read;
            }
            EchoClient.CheckEcho(reply, received, line);
            if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Output.Json(new Dictionary<string, object?>
        {
            ["medianMs"] = Math.Round(Percentile(times, 0.5), 3),
            ["p10Ms"] = Math.Round(Percentile(times, 0.1), 3),
            ["p90Ms"] = Math.Round(Percentile(times, 0.9), 3),
            ["roundTrips"] = times.Count,
        });
        return 0;
    }

    private static double Percentile(List<double> sorted, double share)
    {
        double at = share * (sorted.Count - 1);
        int below = (int)Math.Floor(at);
        int above = Math.Min(sorted.Count - 1, below + 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
    }
}
