using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// The reference: a minimal line echo server on raw .NET async sockets, with the runtime's default
/// settings as the module gets them inside pwsh, so the ratio to it is the cost of the module and of
/// PowerShell. One receive buffer per connection; what ends at a line boundary is written straight back.
/// </summary>
internal static class EchoServer
{
    public static Task<int> RunAsync(Options options) => ListenAsync(options, ServeAsync);

    /// <summary>
    /// Listens on 127.0.0.1 (--port, 0 by default), prints the port, hands each accepted connection to
    /// <paramref name="serve"/> and runs until stdin closes: what every echo server here shares.
    /// </summary>
    internal static async Task<int> ListenAsync(Options options, Func<Socket, Task> serve)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Int("port", 0)));
        listener.Listen(4096);
        Output.Line(((IPEndPoint)listener.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var stopping = new CancellationTokenSource();
        Task accepting = AcceptLoopAsync(listener, serve, stopping.Token);
        await Output.StdinClosedAsync(CancellationToken.None).ConfigureAwait(false);
        stopping.Cancel();
        listener.Close();
        await Task.WhenAny(accepting, Task.Delay(1000)).ConfigureAwait(false);
        return 0;
    }

    private static async Task AcceptLoopAsync(Socket listener, Func<Socket, Task> serve, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping).ConfigureAwait(false);
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
            _ = serve(client);
        }
    }

    private static async Task ServeAsync(Socket client)
    {
        using (client)
        {
            var buffer = new byte[4096];
            int held = 0;
            try
            {
                while (true)
                {
                    int read = await client.ReceiveAsync(buffer.AsMemory(held), SocketFlags.None).ConfigureAwait(false);
                    if (read == 0) return;
                    held += read;
                    int end = buffer.AsSpan(0, held).LastIndexOf((byte)'\n') + 1;
                    // A line longer than the buffer is echoed as it comes: an echo need not hold it whole.
                    if (end == 0 && held == buffer.Length) end = held;
                    if (end == 0) continue;
                    await SendAllAsync(client, buffer.AsMemory(0, end)).ConfigureAwait(false);
                    buffer.AsSpan(end, held - end).CopyTo(buffer);
                    held -= end;
                }
            }
            catch (SocketException)
            {
            }
        }
    }

    internal static async Task SendAllAsync(Socket client, ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await client.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            bytes = bytes.Slice(sent);
        }
    }
}
