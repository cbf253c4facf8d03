using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class FixedLengthFramerTests
{
    [Fact]
    public void SplitAtEveryOffset_AndMerged_GivesEveryMessage()
    {
        List<byte[]> payloads = Enumerable.Range(0, 20).Select(i => Enumerable.Range(0, 6).Select(j => (byte)(i * 6 + j)).ToArray()).ToList();
        FramerRoundTrip.AssertEveryCut(() => new FixedLengthFramer(6), payloads);
    }

    [Fact]
    public void ATruncatedLastMessage_IsAFramingError_AndAWrongSizeCannotBeSent()
    {
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(new FixedLengthFramer(4), new byte[] { 1, 2, 3, 4, 5 }));
        Assert.Throws<FramingException>(() => new FixedLengthFramer(4).Encode(new ArraySegment<byte>(new byte[3])));
    }
}
