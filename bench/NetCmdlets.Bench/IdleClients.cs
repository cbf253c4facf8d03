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
/// listen backlog is not overrun, reports how many succeeded, then holds them open. One source address
/// has one range of ephemeral ports (about 28,000 by default) towards the server's address and port:
/// past that, --sources spreads the connections over 127.0.0.1 to 127.0.0.N, all on the loopback.
/// </summary>
internal static class IdleClients
{
    public static async Task<int> RunAsync(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int count = options.Int("count", 10000);
        int concurrency = Math.Max(1, options.Int("concurrency", 256));
        double holdSeconds = options.Double("hold-seconds", 0);
        int sources = options.Int("sources", 1);
        if (endPoint.Port == 0 || count < 1) throw new ArgumentException("--port and --count must be positive");
        if (sources < 1 || sources > 254) throw new ArgumentException("--sources must be 1 to 254");

        var open = new ConcurrentBag<Socket>();
        var failures = new ConcurrentDictionary<string, int>();
        using var gate = new SemaphoreSlim(concurrency);
        var clock = Stopwatch.StartNew();
        var connecting = new List<Task>(count);
        for (int i = 0; i < count; i++)
        {
            await gate.WaitAsync().ConfigureAwait(false);
            IPAddress? source = sources > 1 ? new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + i % sources) }) : null;
            connecting.Add(ConnectOneAsync(endPoint, source, open, failures, gate));
        }
        await Task.WhenAll(connecting).ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;

        Output.Json(new Dictionary<string, object?>
        {
            ["requested"] = count,
            ["connected"] = open.Count,
            ["sources"] = sources,
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

    // Linux's IP_BIND_ADDRESS_NO_PORT: a bound address takes its port at connect, unique per server
    // address and port, rather than at bind, unique per address.
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private static async Task ConnectOneAsync(IPEndPoint endPoint, IPAddress? source, ConcurrentBag<Socket> open, ConcurrentDictionary<string, int> failures, SemaphoreSlim gate)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (source is not null)
            {
                if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(source, 0));
            }
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
