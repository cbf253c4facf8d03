using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

/// <summary>
/// Feeds a byte stream to an <see cref="IMessageFramer"/> the way a connection's read loop does:
/// each chunk is appended to a receive buffer, <see cref="IMessageFramer.TryRead"/> is called until it
/// asks for more bytes, consumed bytes are dropped, and at end of stream the remainder goes to
/// <see cref="IMessageFramer.TryReadFinal"/>.
/// </summary>
internal static class FramerHarness
{
    /// <summary>Runs the whole stream as a sequence of chunks; returns every message as a fresh array.</summary>
    public static List<byte[]> ReadAll(IMessageFramer framer, IEnumerable<byte[]> chunks)
    {
        var messages = new List<byte[]>();
        // A buffer deliberately padded before the live data, so framers must honour ArraySegment offsets.
        byte[] buffer = new byte[16];
        int start = 3;
        int count = 0;

        foreach (byte[] chunk in chunks)
        {
            // Append the chunk, compacting or growing the buffer as needed.
            if (start + count + chunk.Length > buffer.Length)
            {
                var bigger = new byte[Math.Max(buffer.Length * 2, count + chunk.Length + 16)];
                Buffer.BlockCopy(buffer, start, bigger, 3, count);
                buffer = bigger;
                start = 3;
            }
            Buffer.BlockCopy(chunk, 0, buffer, start + count, chunk.Length);
            count += chunk.Length;

            while (count > 0)
            {
                var input = new ArraySegment<byte>(buffer, start, count);
                if (!framer.TryRead(input, out ArraySegment<byte> message, out int consumed))
                {
                    Assert.Equal(0, consumed);
                    break;
                }
                Assert.InRange(consumed, 1, count);
                Assert.Same(buffer, message.Array);
                Assert.InRange(message.Offset, start, start + consumed);
                Assert.InRange(message.Offset + message.Count, start, start + consumed);
                messages.Add(message.ToArray());
                start += consumed;
                count -= consumed;
            }
            if (count == 0) start = 3;
        }

        if (framer.TryReadFinal(new ArraySegment<byte>(buffer, start, count), out ArraySegment<byte> last))
            messages.Add(last.ToArray());
        return messages;
    }

    /// <summary>The stream in one read.</summary>
    public static List<byte[]> ReadWhole(IMessageFramer framer, byte[] stream) =>
        ReadAll(framer, new[] { stream });

    /// <summary>The stream in two reads, the first of <paramref name="split"/> bytes (either may be empty).</summary>
    public static List<byte[]> ReadSplit(IMessageFramer framer, byte[] stream, int split) =>
        ReadAll(framer, new[] { stream[..split], stream[split..] });

    /// <summary>The stream one byte per read.</summary>
    public static List<byte[]> ReadByteByByte(IMessageFramer framer, byte[] stream) =>
        ReadAll(framer, stream.Select(b => new[] { b }));

    /// <summary>The stream in reads of the given sizes, cycling through them.</summary>
    public static List<byte[]> ReadInChunks(IMessageFramer framer, byte[] stream, params int[] sizes)
    {
        var chunks = new List<byte[]>();
        for (int at = 0, i = 0; at < stream.Length; i++)
        {
            int size = Math.Min(sizes[i % sizes.Length], stream.Length - at);
            chunks.Add(stream[at..(at + size)]);
            at += size;
        }
        return ReadAll(framer, chunks);
    }
}
