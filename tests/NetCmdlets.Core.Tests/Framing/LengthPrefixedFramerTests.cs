using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class LengthPrefixedFramerTests
{
    [Theory]
    [InlineData(1, true, false)]
    [InlineData(2, true, false)]
    [InlineData(2, false, true)]
    [InlineData(4, true, false)]
    [InlineData(4, false, false)]
    [InlineData(4, true, true)]
    [InlineData(8, true, false)]
    [InlineData(8, false, true)]
    public void SplitAtEveryOffset_AndMerged_GivesEveryMessage(int prefix, bool bigEndian, bool includesPrefix)
    {
        FramerRoundTrip.AssertEveryCut(() => new LengthPrefixedFramer(prefix, bigEndian, includesPrefix, 1000), FramerRoundTrip.Payloads());
    }

    [Fact]
    public void TheDefault_IsFourBytesBigEndian_OfThePayloadAlone()
    {
        byte[] framed = MessageFraming.LengthPrefixed().CreateFramer().Encode(new ArraySegment<byte>(new byte[] { 9, 9, 9 }));
        Assert.Equal(new byte[] { 0, 0, 0, 3, 9, 9, 9 }, framed);
        // Two bytes, little endian, counting themselves: 5 + 2 = 7.
        byte[] counted = new LengthPrefixedFramer(2, bigEndian: false, includesPrefix: true).Encode(new ArraySegment<byte>(new byte[] { 9, 9, 9, 9, 9 }));
        Assert.Equal(new byte[] { 7, 0 }, counted[..2]);
    }

    [Fact]
    public void ALengthOverTheMaximum_FailsAsSoonAsThePrefixIsRead()
    {
        var framer = new LengthPrefixedFramer(4, true, false, 1024);
        // Only the prefix has arrived: 2 GiB announced, nothing of it held.
        FramingException error = Assert.Throws<FramingException>(() => framer.TryRead(new ArraySegment<byte>(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }), out _, out _));
        Assert.Contains("exceeds the maximum", error.Message);
    }

    [Fact]
    public void ALengthShorterThanItsOwnPrefix_IsAFramingError()
    {
        var framer = new LengthPrefixedFramer(4, true, includesPrefix: true);
        Assert.Throws<FramingException>(() => framer.TryRead(new ArraySegment<byte>(new byte[] { 0, 0, 0, 2 }), out _, out _));
    }

    [Fact]
    public void AStreamEndingInsideAMessage_IsAFramingError()
    {
        var framer = new LengthPrefixedFramer();
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(framer, new byte[] { 0, 0, 0, 5, 1, 2 }));
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(new LengthPrefixedFramer(), new byte[] { 0, 0 }));
    }

    [Fact]
    public void APayloadTooLongForItsPrefix_CannotBeEncoded()
    {
        Assert.Throws<FramingException>(() => new LengthPrefixedFramer(1).Encode(new ArraySegment<byte>(new byte[256])));
        Assert.Equal(256, new LengthPrefixedFramer(1).Encode(new ArraySegment<byte>(new byte[255])).Length);
    }
}
