using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// A broker's fan-out: N members connect, one of them sends lines and the others each read every one
/// of them. It first sends a probe line every 20 ms until each reader has seen one (a broker forwards
/// only to members it has accepted), then a start line, then --count lines of --size bytes, never more
/// than --window ahead of the slowest reader. Prints the lines delivered per second, over all readers,
/// from the start line to the last reader's last line.
/// </summary>
internal static class BrokerClient
{
    public static async Task<int> RunAsync(Options options)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int members = options.Int("connections", 20);
        int count = options.Int("count", 20000);
        int size = options.Int("size", 64);
        int window = options.Int("window", 1000);
        double timeoutSec = options.Double("timeout-sec", 60);
        if (endPoint.Port == 0 || members < 2 || count < 1 || size < 2 || window < 1) throw new ArgumentException("--port, --count, --size and --window must be positive and --connections at least 2");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSec));
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < members; i++)
            {
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                sockets.Add(socket);
                await socket.ConnectAsync(endPoint, limit.Token).ConfigureAwait(false);
            }
            Socket sender = sockets[0];
            var readers = new Reader[members - 1];
            for (int i = 0; i < readers.Length; i++) readers[i] = new Reader(sockets[i + 1], count);
            Task[] reading = Array.ConvertAll(readers, reader => reader.RunAsync(limit.Token));

            byte[] probe = "p\n"u8.ToArray();
            while (Array.Exists(readers, reader => !reader.SawAny))
            {
                await sender.SendAsync(probe, SocketFlags.None, limit.Token).ConfigureAwait(false);
                await Task.Delay(20, limit.Token).ConfigureAwait(false);
            }
            byte[] line = new byte[size];
            line.AsSpan().Fill((byte)'x');
            line[size - 1] = (byte)'\n';
            var clock = Stopwatch.StartNew();
            await sender.SendAsync("s\n"u8.ToArray(), SocketFlags.None, limit.Token).ConfigureAwait(false);
            // Lines go out in batches, as far as the window allows past the slowest reader.
            byte[] batch = new byte[size * 64];
            for (int i = 0; i < 64; i++) line.CopyTo(batch, i * size);
            int sent = 0;
            while (sent < count)
            {
                long slowest = long.MaxValue;
                foreach (Reader reader in readers) slowest = Math.Min(slowest, reader.Lines);
                int room = (int)Math.Min(Math.Min(64, count - sent), slowest + window - sent);
                if (room <= 0)
                {
                    await Task.Delay(1, limit.Token).ConfigureAwait(false);
                    continue;
                }
                int bytes = room * size, offset = 0;
                while (offset < bytes) offset += await sender.SendAsync(batch.AsMemory(offset, bytes - offset), SocketFlags.None, limit.Token).ConfigureAwait(false);
                sent += room;
            }
            await Task.WhenAll(reading).ConfigureAwait(false);
            double seconds = clock.Elapsed.TotalSeconds;
            Output.Json(new Dictionary<string, object?>
            {
                ["linesPerSecond"] = Math.Round((double)count * readers.Length / seconds, 1),
                ["lines"] = count,
                ["readers"] = readers.Length,
                ["seconds"] = Math.Round(seconds, 3),
                ["errors"] = 0,
            });
            return 0;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or InvalidOperationException)
        {
            Output.Json(new Dictionary<string, object?> { ["linesPerSecond"] = 0.0, ["errors"] = 1, ["firstError"] = e.Message });
            return 1;
        }
        finally
        {
            foreach (Socket socket in sockets) socket.Dispose();
        }
    }

    /// <summary>Counts the lines after the start line, until it has them all.</summary>
    private sealed class Reader
    {
        private readonly Socket _socket;
        private readonly int _count;
        private long _lines;
        private volatile bool _sawAny;

        public Reader(Socket socket, int count)
        {
            _socket = socket;
            _count = count;
        }

        public bool SawAny => _sawAny;

        public long Lines => Volatile.Read(ref _lines);

        public async Task RunAsync(CancellationToken cancellation)
        {
            var buffer = new byte[64 * 1024];
            bool started = false;
            long lines = 0;
            int length = 0;
            byte last = 0;
            while (lines < _count)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellation).ConfigureAwait(false);
                if (read == 0) throw new InvalidOperationException("the broker closed a reader's connection");
                _sawAny = true;
                for (int i = 0; i < read; i++)
                {
                    byte b = buffer[i];
                    if (b != (byte)'\n')
                    {
                        length++;
                        last = b;
                        continue;
                    }
                    // Probes come before the start line, and only data lines after it: the sender's order is kept.
                    if (started) lines++;
                    else if (length == 1 && last == (byte)'s') started = true;
                    length = 0;
                }
                Volatile.Write(ref _lines, lines);
            }
        }
    }
}
