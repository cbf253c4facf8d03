using System;
using System.IO;
using System.Threading.Tasks;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Reads one connection's stream until its end and hands each framed message on. The one receive
/// loop of every connection: a server's connections deliver messages to the server's queue, a client
/// connection delivers raw chunks to its own inbox (framed later, by whoever reads it).
/// </summary>
internal sealed class ReceiveLoop
{
    /// <summary>Reads grow up to this size while a peer keeps them full (a bulk transfer), and start small again after a pause.</summary>
    private const int MaxReadSize = 256 * 1024;

    private readonly ConnectionTransport _transport;
    private readonly IMessageFramer _framer;
    private readonly Func<ArraySegment<byte>, Task> _deliver;
    private readonly Func<Task> _readyToRead;
    private readonly Action<int> _received;

    /// <param name="deliver">Takes one message (a slice of the loop's buffer: copy what is kept); its task pauses reading until done.</param>
    /// <param name="readyToRead">Waited on before each read: the budgets of what this connection has queued.</param>
    /// <param name="received">Bytes read, for the counters.</param>
    public ReceiveLoop(ConnectionTransport transport, IMessageFramer framer, Func<ArraySegment<byte>, Task> deliver, Func<Task> readyToRead, Action<int> received)
    {
        _transport = transport;
        _framer = framer;
        _deliver = deliver;
        _readyToRead = readyToRead;
        _received = received;
    }

    /// <summary>Returns at the end of the stream, after the last unterminated message if the framing allows one.</summary>
    /// <exception cref="FramingException">The bytes broke the framing.</exception>
    /// <exception cref="IOException">The stream failed (see <see cref="Errors.FromStream"/>).</exception>
    public async Task RunAsync()
    {
        Stream stream = _transport.Stream;
        byte[]? buffer = null;
        int start = 0, end = 0;
        int readSize = BufferPool.Size;
        try
        {
            while (true)
            {
                Task ready = _readyToRead();
                if (!ready.IsCompleted) await ready.ConfigureAwait(false);
                if (start == end)
                {
                    if (buffer is not null)
                    {
                        BufferPool.Return(buffer);
                        buffer = null;
                        // Idle memory stays flat: the next read after a pause starts with a small buffer.
                        if (_transport.CanWaitForData)
                        {
                            Task waiting = _transport.WaitForDataAsync();
                            if (!waiting.IsCompleted)
                            {
                                readSize = BufferPool.Size;
                                await waiting.ConfigureAwait(false);
                            }
                        }
                    }
                    else if (_transport.CanWaitForData)
                    {
                        await _transport.WaitForDataAsync().ConfigureAwait(false);
                    }
                    buffer = BufferPool.Rent(readSize);
                    start = end = 0;
                }
                else if (end == buffer!.Length)
                {
                    buffer = MakeRoom(buffer, ref start, ref end);
                }
                int room = buffer.Length - end;
                int read = await ReadAsync(stream, buffer, end, room).ConfigureAwait(false);
                if (read == 0)
                {
                    if (_framer.TryReadFinal(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> last))
                        await _deliver(last).ConfigureAwait(false);
                    return;
                }
                if (read == room && readSize < MaxReadSize) readSize *= 2;
                end += read;
                _received(read);
                while (start < end && _framer.TryRead(new ArraySegment<byte>(buffer, start, end - start), out ArraySegment<byte> message, out int consumed))
                {
                    Task delivered = _deliver(message);
                    if (!delivered.IsCompleted) await delivered.ConfigureAwait(false);
                    else delivered.GetAwaiter().GetResult();
                    start += consumed;
                }
            }
        }
        finally
        {
            if (buffer is not null) BufferPool.Return(buffer);
        }
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
