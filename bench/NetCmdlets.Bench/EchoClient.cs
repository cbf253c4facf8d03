using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// N connections, each sending one line and waiting for its echo before the next: round trips per
/// second after a warm-up. One async loop per connection on the thread pool, no thread per connection,
/// no allocation per round trip, so the client costs far less CPU than any server it measures.
/// <see cref="BlockingEchoClient"/> paces the same load another way and shares the rest from here.
/// </summary>
internal static class EchoClient
{
    /// <summary>Counters a cache line apart, so the loops do not share one.</summary>
    internal const int Stride = 16;

    public static Task<int> RunAsync(Options options) => RunAsync(options, blocking: false);

    /// <summary>
    /// The run both clients share: the message, the connections, the measured window and the JSON.
    /// <paramref name="blocking"/> connects each socket synchronously (so it stays a blocking socket and
    /// its calls go straight to the system) and runs its loop on a thread of its own.
    /// </summary>
    internal static async Task<int> RunAsync(Options options, bool blocking)
    {
        // --unix PATH: the same load over a UNIX domain socket.
        string unix = options.Text("unix", string.Empty);
        EndPoint endPoint = unix.Length > 0 ? new UnixDomainSocketEndPoint(unix) : new IPEndPoint(options.Host, options.Int("port", 0));
        int connections = options.Int("connections", 1);
        double seconds = options.Double("seconds", 5);
        double warmup = options.Double("warmup", 1);
        int size = options.Int("size", 64);
        if ((unix.Length == 0 && ((IPEndPoint)endPoint).Port == 0) || connections < 1 || seconds <= 0 || size < 1) throw new ArgumentException("--port, --connections, --seconds and --size must be positive");

        // "line": size bytes ending in LF. "lp": a 4-byte big-endian length, then size - 4 bytes ending in
        // LF (so a line echo server echoes it whole too).
        // "json": one compact JSON object of size bytes with its LF, {"id":1,"text":"xx...x"}, which a
        // JSON echo (parse, then convert back) returns byte for byte.
        string framing = options.Text("framing", "line");
        bool lengthPrefixed = framing == "lp";
        if (lengthPrefixed && size < 6) throw new ArgumentException("--size must be at least 6 with --framing lp");
        if (framing == "json" && size < 20) throw new ArgumentException("--size must be at least 20 with --framing json");
        byte[] line = new byte[size];
        line.AsSpan().Fill((byte)'x');
        line[size - 1] = (byte)'\n';
        if (lengthPrefixed) System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(line, size - 4);
        if (framing == "json")
        {
            System.Text.Encoding.ASCII.GetBytes("{\"id\":1,\"text\":\"").CopyTo(line, 0);
            System.Text.Encoding.ASCII.GetBytes("\"}\n").CopyTo(line, size - 3);
        }

        var sockets = new List<Socket>();
        var counts = new long[connections * Stride];
        using var run = new LoadRun();
        try
        {
            using (var connectLimit = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                for (int i = 0; i < connections; i++)
                {
                    var socket = unix.Length > 0
                        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                        : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    sockets.Add(socket);
                    if (blocking) socket.Connect(endPoint);
                    else await socket.ConnectAsync(endPoint, connectLimit.Token).ConfigureAwait(false);
                }
            }
            for (int i = 0; i < sockets.Count; i++)
            {
                int slot = i * Stride;
                Socket socket = sockets[i];
                if (blocking) run.StartThread(stopping => BlockingEchoClient.RoundTrips(socket, line, counts, slot, stopping));
                else run.Start(stopping => RoundTripsAsync(socket, line, counts, slot, stopping));
            }

            long before = 0, after = 0;
            double elapsed = await run.MeasureAsync(warmup, seconds, () => before = Sum(counts), () => after = Sum(counts)).ConfigureAwait(false);

            Output.Json(new Dictionary<string, object?>
            {
                ["roundTripsPerSecond"] = Math.Round((after - before) / elapsed, 1),
                ["roundTrips"] = after - before,
                ["allRoundTrips"] = Sum(counts),
                ["seconds"] = Math.Round(elapsed, 3),
                ["connections"] = connections,
                ["client"] = blocking ? "blocking" : "async",
                ["size"] = size,
                ["errors"] = run.Errors,
                ["firstError"] = run.FirstError,
            });
            return 0;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Output.Json(new Dictionary<string, object?>
            {
                ["roundTripsPerSecond"] = 0.0,
                ["errors"] = 1,
                ["firstError"] = $"connecting to {endPoint}: {e.Message}",
            });
            return 1;
        }
        finally
        {
            foreach (Socket socket in sockets) socket.Dispose();
            await run.StopAsync().ConfigureAwait(false);
        }
    }

    private static async Task RoundTripsAsync(Socket socket, byte[] line, long[] counts, int slot, CancellationToken stopping)
    {
        var reply = new byte[Math.Max(4096, line.Length * 2)];
        while (!stopping.IsCancellationRequested)
        {
            int sent = 0;
            while (sent < line.Length)
                sent += await socket.SendAsync(line.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
            int received = 0;
            while (received < line.Length)
            {
                int read = await socket.ReceiveAsync(reply.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
                if (read == 0) throw new InvalidOperationException("the server closed the connection");
                received += read;
            }
            CheckEcho(reply, received, line);
            Volatile.Write(ref counts[slot], counts[slot] + 1);
        }
    }

    /// <summary>One message is outstanding, so exactly that message must come back (its length prefix too).</summary>
    internal static void CheckEcho(byte[] reply, int received, byte[] line)
    {
        if (received != line.Length || reply[line.Length - 1] != (byte)'\n' || reply[3] != line[3])
            throw new InvalidOperationException($"expected one {line.Length}-byte message back, got {received} bytes");
    }

    internal static long Sum(long[] counts)
    {
        long total = 0;
        for (int i = 0; i < counts.Length; i += Stride) total += Volatile.Read(ref counts[i]);
        return total;
    }
}
