using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

/// <summary>What every framer must do with its own encoding: the same messages back, however the stream is cut.</summary>
internal static class FramerRoundTrip
{
    /// <summary>Payloads with bytes that framings use (0, LF, CR, space, digits) and an empty one where allowed.</summary>
    public static List<byte[]> Payloads(bool allowEmpty = true, int count = 12)
    {
        var payloads = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int length = (i * 7) % 23 + (allowEmpty || i % 5 != 0 ? 0 : 1);
            if (!allowEmpty && length == 0) length = 1;
            payloads.Add(Enumerable.Range(0, length).Select(j => (byte)"\0\n\r 1a\u00ff"[(i + j) % 7]).ToArray());
        }
        return payloads;
    }

    public static byte[] Stream(IMessageFramer framer, IEnumerable<byte[]> payloads) =>
        payloads.SelectMany(p => framer.Encode(new ArraySegment<byte>(p))).ToArray();

    /// <summary>Split at every offset, merged into one read, and one byte per read: always the same messages.</summary>
    public static void AssertEveryCut(Func<IMessageFramer> create, IReadOnlyList<byte[]> payloads)
    {
        byte[] stream = Stream(create(), payloads);
        Assert.Equal(payloads, FramerHarness.ReadWhole(create(), stream));
        Assert.Equal(payloads, FramerHarness.ReadByteByByte(create(), stream));
        Assert.Equal(payloads, FramerHarness.ReadInChunks(create(), stream, 3, 1, 7));
        for (int split = 0; split <= stream.Length; split++)
            Assert.Equal(payloads, FramerHarness.ReadSplit(create(), stream, split));
    }
}
