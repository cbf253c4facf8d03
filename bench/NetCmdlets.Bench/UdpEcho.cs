using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// UDP request and reply. The server is the reference: one async receive-then-send loop on raw .NET
/// sockets, with the runtime's default settings as the module gets them inside pwsh, so the ratio to
/// it is the cost of the module and of PowerShell. The client runs N senders, each with a connected
/// socket of its own, sending one datagram and waiting for its echo before the next.
/// </summary>
internal static class UdpEcho
{
    public static async Task<int> ServerAsync(Options options)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, options.Int("port", 0)));
        Output.Line(((IPEndPoint)socket.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture));

        using var stopping = new CancellationTokenSource();
        Task serving = ServeAsync(socket, stopping.Token);
        await Output.StdinClosedAsync(CancellationToken.None).ConfigureAwait(false);
        stopping.Cancel();
        socket.Close();
        await Task.WhenAny(serving, Task.Delay(1000)).ConfigureAwait(false);
        return 0;
    }

    private static async Task ServeAsync(Socket socket, CancellationToken stopping)
    {
        var buffer = new byte[65536];
        // Filled in by each receive: the sender to answer, without an allocation per datagram.
        var sender = new SocketAddress(AddressFamily.InterNetwork);
        while (!stopping.IsCancellationRequested)
        {
            int read;
            try
            {
                read = await socket.ReceiveFromAsync(buffer, SocketFlags.None, sender, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP "port unreachable" for an earlier reply, to a sender that has gone.
                continue;
            }
            try
            {
                await socket.SendToAsync(buffer.AsMemory(0, read), SocketFlags.None, sender, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // A reply that could not go out is a lost round trip for the client to count.
            }
        }
    }

    public static async Task<int> ClientAsync(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int senders = options.Int("senders", 1);
        double seconds = options.Double("seconds", 5);
        double warmup = options.Double("warmup", 1);
        int size = options.Int("size", 64);
        double timeoutSec = options.Double("timeout-sec", 1);
        if (endPoint.Port == 0 || senders < 1 || seconds <= 0 || timeoutSec <= 0) throw new ArgumentException("--port, --senders, --seconds and --timeout-sec must be positive");
        // Each datagram starts with its sequence number, so a late echo is never taken for the next one's.
        if (size < 8 || size > 65507) throw new ArgumentException("--size must be 8 to 65507");

        var sockets = new List<Socket>();
        var counts = new long[senders * EchoClient.Stride];
        var lost = new long[senders * EchoClient.Stride];
        using var run = new LoadRun();
        TimeSpan timeout = TimeSpan.FromSeconds(timeoutSec);
        try
        {
            for (int i = 0; i < senders; i++)
            {
                var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                sockets.Add(socket);
                socket.Connect(endPoint);
            }
            for (int i = 0; i < sockets.Count; i++)
            {
                int slot = i * EchoClient.Stride;
                Socket socket = sockets[i];
                run.Start(stopping => RoundTripsAsync(socket, size, timeout, counts, lost, slot, stopping, run.Error));
            }

            long before = 0, after = 0, lostBefore = 0, lostAfter = 0;
            double elapsed = await run.MeasureAsync(warmup, seconds,
                () => (before, lostBefore) = (EchoClient.Sum(counts), EchoClient.Sum(lost)),
                () => (after, lostAfter) = (EchoClient.Sum(counts), EchoClient.Sum(lost))).ConfigureAwait(false);

            Output.Json(new Dictionary<string, object?>
            {
                ["roundTripsPerSecond"] = Math.Round((after - before) / elapsed, 1),
                ["roundTrips"] = after - before,
                ["allRoundTrips"] = EchoClient.Sum(counts),
                ["lost"] = lostAfter - lostBefore,
                ["allLost"] = EchoClient.Sum(lost),
                ["seconds"] = Math.Round(elapsed, 3),
                ["senders"] = senders,
                ["size"] = size,
                ["timeoutSec"] = timeoutSec,
                ["errors"] = run.Errors,
                ["firstError"] = run.FirstError,
            });
            return 0;
        }
        catch (SocketException e)
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

    /// <summary>
    /// One sender: a datagram out, then its echo back within the timeout; an echo that does not come
    /// in time counts as lost, and the next datagram goes out. Errors (an ICMP "port unreachable" on
    /// the connected socket, say) are reported and the loop goes on after a short pause.
    /// </summary>
    private static async Task RoundTripsAsync(Socket socket, int size, TimeSpan timeout, long[] counts, long[] lost, int slot, CancellationToken stopping, Action<string> error)
    {
        var request = new byte[size];
        request.AsSpan().Fill((byte)'u');
        var reply = new byte[65536];
        long sequence = 0;
        var timer = new CancellationTokenSource();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                sequence++;
                BinaryPrimitives.WriteInt64LittleEndian(request, sequence);
                try
                {
                    await socket.SendAsync(request, SocketFlags.None, stopping).ConfigureAwait(false);
                    timer.CancelAfter(timeout);
                    while (true)
                    {
                        int read = await socket.ReceiveAsync(reply, SocketFlags.None, timer.Token).ConfigureAwait(false);
                        if (read == size && BinaryPrimitives.ReadInt64LittleEndian(reply) == sequence) break;
                        // The late echo of an earlier datagram, already counted as lost: wait on for this one.
                    }
                }
                catch (OperationCanceledException) when (timer.IsCancellationRequested && !stopping.IsCancellationRequested)
                {
                    Volatile.Write(ref lost[slot], lost[slot] + 1);
                    timer.Dispose();
                    timer = new CancellationTokenSource();
                    continue;
                }
                catch (SocketException e) when (!stopping.IsCancellationRequested)
                {
                    error(e.SocketErrorCode.ToString());
                    timer.Dispose();
                    timer = new CancellationTokenSource();
                    await Task.Delay(10, stopping).ConfigureAwait(false);
                    continue;
                }
                if (!timer.TryReset())
                {
                    // The timeout fired just as the echo came: the echo still counts.
                    timer.Dispose();
                    timer = new CancellationTokenSource();
                }
                Volatile.Write(ref counts[slot], counts[slot] + 1);
            }
        }
        finally
        {
            timer.Dispose();
        }
    }
}
