using System;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// The same echo load as <see cref="EchoClient"/>, paced as a script's clients pace it: a thread per
/// connection, each sending its line with a blocking send and then blocking in receive until the
/// echo is back, as a Python <c>socket</c> client does with <c>sendall</c> and <c>recv</c>. Every
/// request then leaves on its own thread's schedule rather than in the bursts an event loop sends
/// after each wake-up, which a server meets as many small reads instead of a few full ones.
/// Options, message and output are the async client's; NoDelay too, so pacing is the one difference.
/// </summary>
internal static class BlockingEchoClient
{
    public static Task<int> RunAsync(Options options) => EchoClient.RunAsync(options, blocking: true);

    /// <summary>One connection's loop, on its own thread; ends with an error once its socket is disposed.</summary>
    internal static void RoundTrips(Socket socket, byte[] line, long[] counts, int slot, CancellationToken stopping)
    {
        var reply = new byte[Math.Max(4096, line.Length * 2)];
        while (!stopping.IsCancellationRequested)
        {
            int sent = 0;
            while (sent < line.Length)
                sent += socket.Send(line, sent, line.Length - sent, SocketFlags.None);
            int received = 0;
            while (received < line.Length)
            {
                int read = socket.Receive(reply, received, reply.Length - received, SocketFlags.None);
                if (read == 0) throw new InvalidOperationException("the server closed the connection");
                received += read;
            }
            EchoClient.CheckEcho(reply, received, line);
            Volatile.Write(ref counts[slot], counts[slot] + 1);
        }
    }
}
