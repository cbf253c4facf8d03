using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class RawFramerTests
{
    private static readonly byte[] Stream = Enumerable.Range(0, 300).Select(i => (byte)(i * 37)).ToArray();

    [Fact]
    public void SplitAtEveryOffset_GivesTheExactBytes_InChunksAsTheyCame()
    {
        for (int split = 0; split <= Stream.Length; split++)
        {
            List<byte[]> messages = FramerHarness.ReadSplit(new RawFramer(), Stream, split);
            Assert.Equal(Stream, messages.SelectMany(m => m).ToArray());
            Assert.All(messages, m => Assert.NotEmpty(m));
            Assert.Equal(split == 0 || split == Stream.Length ? 1 : 2, messages.Count);
        }
    }

    [Fact]
    public void MergedIntoOneRead_IsOneMessage_AndByteByByte_IsOneMessageEach()
    {
        Assert.Equal(Stream, Assert.Single(FramerHarness.ReadWhole(new RawFramer(), Stream)));
        List<byte[]> single = FramerHarness.ReadByteByByte(new RawFramer(), Stream);
        Assert.Equal(Stream.Length, single.Count);
        Assert.Equal(Stream, single.SelectMany(m => m).ToArray());
    }

    [Fact]
    public void Encode_AddsNothing()
    {
        byte[] payload = { 0, 10, 13, 255 };
        Assert.Equal(payload, new RawFramer().Encode(new ArraySegment<byte>(payload)));
        Assert.Equal(new byte[] { 10, 13 }, new RawFramer().Encode(new ArraySegment<byte>(payload, 1, 2)));
    }

    [Fact]
    public void EachConnection_GetsItsOwnFramer()
    {
        MessageFraming lines = MessageFraming.Lines();
        Assert.NotSame(lines.CreateFramer(), lines.CreateFramer());
        Assert.Equal("Line", lines.Name);
        Assert.Equal("Raw", MessageFraming.Raw.Name);
    }
}

public class LineFramerScanTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ALongLine_InOneByteReads_IsScannedOnce_NotOncePerRead(int readSize)
    {
        // 200 KB without a terminator, then LF: each read may only look at the new bytes.
        const int Length = 200_000;
        byte[] stream = Enumerable.Repeat((byte)'x', Length).Append((byte)'\n').ToArray();
        var framer = new LineFramer(null, Length + 10);
        List<byte[]> messages = FramerHarness.ReadInChunks(framer, stream, readSize);
        Assert.Equal(Length, Assert.Single(messages).Length);
        // Linear: about one look per byte (a rescan from the start would be ~Length^2 / 2 / readSize).
        Assert.InRange(framer.BytesExamined, Length, 2L * stream.Length);
    }

    [Fact]
    public void ALongUtf16Line_InOddReads_IsScannedOnce_AndStillSplitsOnWholeCodeUnits()
    {
        var encoding = new System.Text.UnicodeEncoding(false, false);
        string text = new string('\u0A0A', 20_000);
        byte[] stream = encoding.GetBytes(text + "\n" + "tail\n");
        var framer = new LineFramer(encoding, 1_000_000);
        List<byte[]> messages = FramerHarness.ReadInChunks(framer, stream, 1, 3, 2);
        Assert.Equal(new[] { text, "tail" }, messages.Select(m => encoding.GetString(m)));
        Assert.InRange(framer.BytesExamined, stream.Length / 2, 2L * stream.Length);
    }
}
