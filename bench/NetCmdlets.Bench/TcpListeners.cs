using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// The open ports of a port scan: listeners on 127.0.0.1 at free ports picked at random between
/// --first-port and --last-port (a port another socket holds is skipped), printed on the first line,
/// sorted and separated by spaces. Connections are accepted and closed at once, until stdin closes.
/// </summary>
internal static class TcpListeners
{
    public static async Task<int> RunAsync(Options options)
    {
        int count = options.Int("count", 20);
        int first = options.Int("first-port", 1);
        int last = options.Int("last-port", 10000);
        if (count < 1 || first < 1 || last > 65535 || last - first + 1 < count) throw new ArgumentException("--count must be positive and fit between --first-port and --last-port");

        var listeners = new List<Socket>();
        var tried = new HashSet<int>();
        int span = last - first + 1;
        try
        {
            while (listeners.Count < count && tried.Count < span)
            {
                int port = Random.Shared.Next(first, last + 1);
                if (!tried.Add(port)) continue;
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
                    listener.Listen(512);
                    listeners.Add(listener);
                }
                catch (SocketException)
                {
                    // Taken, or below 1024 without the right to bind it.
                    listener.Dispose();
                }
            }
            if (listeners.Count < count) throw new InvalidOperationException($"only {listeners.Count} of {count} ports between {first} and {last} were free");
            Output.Line(string.Join(" ", listeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Port).Order().Select(p => p.ToString(CultureInfo.InvariantCulture))));

            using var stopping = new CancellationTokenSource();
            Task[] accepting = listeners.Select(l => AcceptLoopAsync(l, stopping.Token)).ToArray();
            await Output.StdinClosedAsync(CancellationToken.None).ConfigureAwait(false);
            stopping.Cancel();
            foreach (Socket listener in listeners) listener.Close();
            await Task.WhenAny(Task.WhenAll(accepting), Task.Delay(1000)).ConfigureAwait(false);
            return 0;
        }
        finally
        {
            foreach (Socket listener in listeners) listener.Dispose();
        }
    }

    private static async Task AcceptLoopAsync(Socket listener, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Socket client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                client.Dispose();
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // The scanner reset the connection before it was accepted.
            }
        }
    }
}
