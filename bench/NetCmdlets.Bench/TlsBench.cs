using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// TLS peers for the benchmark: a raw .NET SslStream line echo server (the reference), an echo client
/// over TLS, and a client that counts full handshakes per second. Clients accept any certificate: the
/// benchmark measures the work, not the trust.
/// </summary>
internal static class TlsBench
{
    public static async Task<int> ServerAsync(Options options)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(options.Text("cert", ""), options.Text("password", ""));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Int("port", 0)));
        listener.Listen(4096);
        Output.Line(((IPEndPoint)listener.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var stopping = new CancellationTokenSource();
        Task accepting = Task.Run(async () =>
        {
            while (!stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(stopping.Token).ConfigureAwait(false);
                }
                catch (Exception) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    continue;
                }
                client.NoDelay = true;
                _ = ServeAsync(client, certificate);
            }
        });
        await Output.StdinClosedAsync(CancellationToken.None).ConfigureAwait(false);
        stopping.Cancel();
        listener.Close();
        await Task.WhenAny(accepting, Task.Delay(1000)).ConfigureAwait(false);
        return 0;
    }

    private static async Task ServeAsync(Socket client, X509Certificate2 certificate)
    {
        using var ssl = new SslStream(new NetworkStream(client, ownsSocket: true));
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }).ConfigureAwait(false);
            var buffer = new byte[4096];
            int held = 0;
            while (true)
            {
                int read = await ssl.ReadAsync(buffer.AsMemory(held)).ConfigureAwait(false);
                if (read == 0) return;
                held += read;
                int end = buffer.AsSpan(0, held).LastIndexOf((byte)'\n') + 1;
                if (end == 0 && held == buffer.Length) end = held;
                if (end == 0) continue;
                await ssl.WriteAsync(buffer.AsMemory(0, end)).ConfigureAwait(false);
                buffer.AsSpan(end, held - end).CopyTo(buffer);
                held -= end;
            }
        }
        catch (Exception e) when (e is IOException or AuthenticationException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task<SslStream> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                // Full handshakes every time: no session to resume.
                AllowTlsResume = false,
            }, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Round trips of one line per connection over TLS, as echo-client does over plain TCP.</summary>
    public static Task<int> EchoClientAsync(Options options)
    {
        int size = options.Int("size", 64);
        byte[] line = new byte[size];
        line.AsSpan().Fill((byte)'x');
        line[size - 1] = (byte)'\n';
        var reply = new byte[Math.Max(4096, size * 2)];
        return RunAsync(options, "roundTrips", async (endPoint, counts, slot, stopping) =>
        {
            using SslStream ssl = await ConnectAsync(endPoint, stopping).ConfigureAwait(false);
            var mine = new byte[reply.Length];
            while (!stopping.IsCancellationRequested)
            {
                await ssl.WriteAsync(line, stopping).ConfigureAwait(false);
                int received = 0;
                while (received < line.Length)
                {
                    int read = await ssl.ReadAsync(mine.AsMemory(received), stopping).ConfigureAwait(false);
                    if (read == 0) throw new InvalidOperationException("the server closed the connection");
                    received += read;
                }
                if (received != line.Length) throw new InvalidOperationException($"expected {line.Length} bytes back, got {received}");
                Volatile.Write(ref counts[slot], counts[slot] + 1);
            }
        });
    }

    /// <summary>Full TLS handshakes per second: connect, shake hands, close, over and over, on each of N concurrent loops.</summary>
    public static Task<int> HandshakeClientAsync(Options options) =>
        RunAsync(options, "handshakes", async (endPoint, counts, slot, stopping) =>
        {
            while (!stopping.IsCancellationRequested)
            {
                using (await ConnectAsync(endPoint, stopping).ConfigureAwait(false))
                {
                }
                Volatile.Write(ref counts[slot], counts[slot] + 1);
            }
        });

    private static async Task<int> RunAsync(Options options, string unit, Func<IPEndPoint, long[], int, CancellationToken, Task> loop)
    {
        var endPoint = new IPEndPoint(options.Host, options.Int("port", 0));
        int connections = options.Int("connections", 1);
        double seconds = options.Double("seconds", 5);
        double warmup = options.Double("warmup", 1);
        var counts = new long[connections * EchoClient.Stride];
        using var run = new LoadRun();
        for (int i = 0; i < connections; i++)
        {
            int slot = i * EchoClient.Stride;
            run.Start(stopping => loop(endPoint, counts, slot, stopping));
        }
        long before = 0, after = 0;
        double elapsed = await run.MeasureAsync(warmup, seconds, () => before = EchoClient.Sum(counts), () => after = EchoClient.Sum(counts)).ConfigureAwait(false);
        await run.StopAsync().ConfigureAwait(false);
        Output.Json(new Dictionary<string, object?>
        {
            [unit + "PerSecond"] = Math.Round((after - before) / elapsed, 1),
            ["all" + char.ToUpperInvariant(unit[0]) + unit.Substring(1)] = EchoClient.Sum(counts),
            ["seconds"] = Math.Round(elapsed, 3),
            ["connections"] = connections,
            ["errors"] = run.Errors,
            ["firstError"] = run.FirstError,
        });
        return 0;
    }
}
