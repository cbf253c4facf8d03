using System;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// The ceiling: the fastest line echo this project knows how to write on <see cref="Socket"/> itself.
/// The process runs with the socket engine's continuations inline
/// (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, set by Program for every socket here, as the module
/// sets it for its own sockets), so a completed receive is framed and answered on the epoll thread with
/// no thread-pool hop. Per connection: one receive loop over one buffer kept for its life (the socket's
/// cached awaitable makes each receive and send allocation-free), only the newly read bytes scanned for
/// a line end, and everything up to the last one sent back in one send, which on loopback nearly
/// always completes at once. <see cref="EchoServer"/> is the same echo with the runtime's defaults.
/// </summary>
internal static class TunedEchoServer
{
    // Room for a burst of pipelined lines in one read; the lines of this benchmark are 64 bytes.
    private const int BufferBytes = 16 * 1024;

    public static Task<int> RunAsync(Options options) => EchoServer.ListenAsync(options, ServeAsync);

    private static async Task ServeAsync(Socket client)
    {
        using (client)
        {
            var buffer = new byte[BufferBytes];
            int held = 0;
            try
            {
                while (true)
                {
                    int read = await client.ReceiveAsync(buffer.AsMemory(held), SocketFlags.None).ConfigureAwait(false);
                    if (read == 0) return;
                    // The held bytes were scanned when they came and hold no line end: only the new ones can.
                    int last = buffer.AsSpan(held, read).LastIndexOf((byte)'\n');
                    int end = last >= 0 ? held + last + 1 : 0;
                    held += read;
                    // A line longer than the buffer is echoed as it comes: an echo need not hold it whole.
                    if (end == 0 && held == buffer.Length) end = held;
                    if (end == 0) continue;
                    await EchoServer.SendAllAsync(client, buffer.AsMemory(0, end)).ConfigureAwait(false);
                    if (end < held) buffer.AsSpan(end, held - end).CopyTo(buffer);
                    held -= end;
                }
            }
            catch (SocketException)
            {
                // The client reset the connection: this one is done, the others go on.
            }
        }
    }
}
