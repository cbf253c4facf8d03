using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Reads one connection's stream until its end and hands each framed message on: the one receive loop
/// of every connection. A server's connections deliver messages to the server's queue; a connection read
/// on its own delivers raw chunks to its inbox, framed later by whoever reads it.
/// </summary>
/// <remarks>
/// One object and one async method per connection, with no delegates: ten thousand idle connections
/// are ten thousand of these waiting on a zero-byte read, and every byte of them counts.
/// </remarks>
internal abstract class ReceiveLoop
{
    /// <summary>Reads grow up to this size while a peer keeps them full (a bulk transfer), and start small again after a pause.</summary>
    private const int MaxReadSize = 256 * 1024;

    protected ReceiveLoop(TcpConnection connection, IMessageFramer framer)
    {
        Connection = connection;
        Framer = framer;
    }

    protected TcpConnection Connection { get; }

    private IMessageFramer Framer { get; }

    /// <summary>What the peer sent and nobody took yet; reading waits while it is past its limit.</summary>
    protected abstract ByteBudget Untaken { get; }

    /// <summary>Completes when the loop may read on: at once, unless what the peer sent waits past its budget to be taken.</summary>
    protected virtual Task ReadyAsync() => Untaken.WaitForRoomAsync();

    /// <summary>Takes one message (a slice of the loop's buffer: copy what is kept); its task pauses reading until done.</summary>
    protected abstract Task DeliverAsync(ArraySegment<byte> message);

    private Tls.TlsException ClearTextAfterStartTls() =>
        new(Tls.TlsFailure.Failed, $"{Connection.RemoteEndPoint} sent data in clear text after asking for TLS and before the handshake (RFC 3207 forbids it).");

    /// <summary>
    /// Looks at the first bytes the peer sent, all of them so far; throws to end the connection (a TLS
    /// handshake on a plain-text port). False while it cannot tell yet: nothing is framed until it can.
    /// </summary>
    protected virtual bool CheckFirstBytes(ArraySegment<byte> first) => true;

    /// <summary>Completes when the next message may be cut: at once, unless the connection frames in turn with its consumer.</summary>
    protected virtual Task TurnAsync() => Task.CompletedTask;

    /// <summary>
    /// After each read: <paramref name="bytes"/> are the messages just delivered, whole, as they came on the
    /// wire (a broker forwards them in one piece); at the end, with <paramref name="final"/>, the payload of
    /// the last, unterminated message. Nothing by default.
    /// </summary>
    protected virtual void Framed(ArraySegment<byte> bytes, bool final)
    {
    }

    /// <summary>The stream ended: cleanly (null) or with the error that ended the connection.</summary>
    protected abstract void Ended(NetException? error);

    /// <summary>Set for a loop the server stops: a failure after it is the stop, not an error.</summary>
    protected virtual CancellationToken Stopping => CancellationToken.None;

    /// <summary>Runs until the end of the stream; never throws (see <see cref="Ended"/>).</summary>
    public async Task RunAsync()
    {
        ConnectionTransport transport = Connection.Transport;
        Stream stream = transport.Stream;
        byte[]? buffer = null;
        int start = 0, end = 0;
        int readSize = BufferPool.Size;
        Exception? failure = null;
        bool checking = true;
        try
        {
            while (true)
            {
                Task ready = ReadyAsync();
                if (!ready.IsCompleted) await ready.ConfigureAwait(false);
                if (start == end)
                {
                    if (buffer is not null)
                    {
                        BufferPool.Return(buffer);
                        buffer = null;
                    }
                    if (transport.CanWaitForData)
                    {
                        // Idle memory stays flat: no buffer is held while waiting, and after a pause reads start small.
                        var waiting = transport.WaitForDataAsync();
                        if (!waiting.IsCompleted)
                        {
                            readSize = BufferPool.Size;
                            await waiting.ConfigureAwait(false);
                        }
                        else
                        {
                            waiting.GetAwaiter().GetResult();
                        }
                    }
                    buffer = BufferPool.Rent(readSize);
                    start = end = 0;
                }
                else if (end == buffer!.Length)
                {
                    buffer = MakeRoom(buffer, ref start, ref end);
                }
                // A buffer kept across reads holds an unfinished message: it counts against the server's budget.
                Connection.HoldUnfinished(start < end ? buffer.Length : 0);
                // An upgrade to TLS (STARTTLS) takes the stream over: what follows is read through it, never here in clear.
                Task gate = Connection.ReadGate;
                if (!gate.IsCompleted) await gate.ConfigureAwait(false);
                // Checked every time, not only after a wait: the upgrade may have finished while this loop was elsewhere.
                if (Connection.Transport != transport)
                {
                    transport = Connection.Transport;
                    stream = transport.Stream;
                    // Bytes sent in clear after the command and before the handshake could be an attacker's (RFC 3207 section 5).
                    if (start < end) throw ClearTextAfterStartTls();
                }
                int room = buffer.Length - end;
                int read = await ReadAsync(stream, buffer, end, room).ConfigureAwait(false);
                if (read == 0)
                {
                    await TurnAsync().ConfigureAwait(false);
                    if (Framer.TryReadFinal(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> last))
                    {
                        await DeliverAsync(last).ConfigureAwait(false);
                        Framed(last, final: true);
                    }
                    break;
                }
                if (read == room && readSize < MaxReadSize) readSize *= 2;
                end += read;
                Connection.OnReceived(read);
                // Until the first bytes tell what they are, none of them becomes a message.
                if (checking)
                {
                    checking = !CheckFirstBytes(new ArraySegment<byte>(buffer, start, end - start));
                    if (checking) continue;
                }
                int framedFrom = start;
                while (start < end)
                {
                    Task turn = TurnAsync();
                    if (!turn.IsCompleted) await turn.ConfigureAwait(false);
                    // The handler asked for TLS: nothing more that came in clear may become a message.
                    if (!Connection.ReadGate.IsCompleted || Connection.Transport != transport) throw ClearTextAfterStartTls();
                    if (!Framer.TryRead(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> message, out int consumed)) break;
                    Task delivered = DeliverAsync(message);
                    if (!delivered.IsCompleted) await delivered.ConfigureAwait(false);
                    else delivered.GetAwaiter().GetResult();
                    start += consumed;
                }
                if (start > framedFrom) Framed(new ArraySegment<byte>(buffer, framedFrom, start - framedFrom), final: false);
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            if (buffer is not null) BufferPool.Return(buffer);
            Connection.HoldUnfinished(0);
        }
        Connection.ReceiveEnded(failure, Stopping, Ended);
    }

#if NET8_0_OR_GREATER
    private static ValueTask<int> ReadAsync(Stream stream, byte[] buffer, int offset, int count) =>
        stream.ReadAsync(buffer.AsMemory(offset, count));
#else
    private static Task<int> ReadAsync(Stream stream, byte[] buffer, int offset, int count) =>
        stream.ReadAsync(buffer, offset, count);
#endif

    private static byte[] MakeRoom(byte[] buffer, ref int start, ref int end)
    {
        int count = end - start;
        // Half-used or more by one message: a larger buffer, since the message being framed is long.
        byte[] target = start > buffer.Length / 2 ? buffer : BufferPool.Rent(buffer.Length * 2);
        Buffer.BlockCopy(buffer, start, target, 0, count);
        if (target != buffer) BufferPool.Return(buffer);
        start = 0;
        end = count;
        return target;
    }
}
