using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// Opens many connections that send nothing, a bounded number of connects in flight at once so the
/// listen backlog is not overrun, reports how many succeeded, then holds them open.
/// </summary>
internal static class IdleClients
{
    public static async Task<int> RunAsync(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int count = options.Int("count", 10000);
        int concurrency = Math.Max(1, options.Int("concurrency", 256));
        double holdSeconds = options.Double("hold-seconds", 0);
        if (endPoint.Port == 0 || count < 1) throw new ArgumentException("--port and --count must be positive");

        var open = new ConcurrentBag<Socket>();
        var failures = new ConcurrentDictionary<string, int>();
        using var gate = new SemaphoreSlim(concurrency);
        var clock = Stopwatch.StartNew();
        var connecting = new List<Task>(count);
        for (int i = 0; i < count; i++)
        {
            await gate.WaitAsync().ConfigureAwait(false);
            connecting.Add(ConnectOneAsync(endPoint, open, failures, gate));
        }
        await Task.WhenAll(connecting).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;

        Output.Json(new Dictionary<string, object?>
        {
            ["requested"] = count,
            ["connected"] = open.Count,
            ["failed"] = count - open.Count,
            ["seconds"] = Math.Round(seconds, 3),
            ["failures"] = failures.ToDictionary(pair => pair.Key, pair => pair.Value),
        });

        if (holdSeconds > 0)
            await Task.WhenAny(Output.StdinClosedAsync(CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(holdSeconds))).ConfigureAwait(false);
        else if (holdSeconds == 0)
            await Output.StdinClosedAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (Socket socket in open) socket.Dispose();
        return 0;
    }

    private static async Task ConnectOneAsync(IPEndPoint endPoint, ConcurrentBag<Socket> open, ConcurrentDictionary<string, int> failures, SemaphoreSlim gate)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(endPoint, limit.Token).ConfigureAwait(false);
            open.Add(socket);
        }
        catch (Exception e)
        {
            string reason = e is SocketException socketError ? socketError.SocketErrorCode.ToString() : e.GetType().Name;
            failures.AddOrUpdate(reason, 1, (_, n) => n + 1);
            socket.Dispose();
        }
        finally
        {
            gate.Release();
        }
    }
}
