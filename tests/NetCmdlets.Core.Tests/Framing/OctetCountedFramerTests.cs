using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class OctetCountedFramerTests
{
    [Fact]
    public void SplitAtEveryOffset_AndMerged_GivesEveryMessage()
    {
        FramerRoundTrip.AssertEveryCut(() => new OctetCountedFramer(1000), FramerRoundTrip.Payloads(allowEmpty: false));
    }

    [Fact]
    public void ReadsSyslogAsLoggerSendsIt()
    {
        string one = "<13>1 2026-11-25T10:00:00Z host app - - - hello";
        string two = "<13>1 2026-11-25T10:00:01Z host app - - - multi\nline";
        byte[] stream = Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(one)} {one}{Encoding.UTF8.GetByteCount(two)} {two}");
        Assert.Equal(new[] { one, two }, FramerHarness.ReadByteByByte(new OctetCountedFramer(), stream).Select(m => Encoding.UTF8.GetString(m)));
    }

    [Theory]
    [InlineData("abc hello")]
    [InlineData("05 hello")]
    [InlineData(" 5 hello")]
    [InlineData("<13>1 2026 host app - - - LF-terminated syslog\n")]
    [InlineData("12345678901 x")]
    public void AMalformedCount_IsAFramingError(string text)
    {
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(new OctetCountedFramer(int.MaxValue), Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void ACountOverTheMaximum_FailsBeforeTheMessageIsHeld()
    {
        var framer = new OctetCountedFramer(100);
        Assert.Throws<FramingException>(() => framer.TryRead(new ArraySegment<byte>(Encoding.ASCII.GetBytes("1000")), out _, out _));
    }

    [Fact]
    public void AStreamEndingInsideAMessage_IsAFramingError()
    {
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(new OctetCountedFramer(), Encoding.ASCII.GetBytes("10 short")));
        Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(new OctetCountedFramer(), Encoding.ASCII.GetBytes("12")));
    }

    [Fact]
    public void AnEmptyMessage_CannotBeSent_SinceCountsStartAtOne()
    {
        Assert.Throws<FramingException>(() => new OctetCountedFramer().Encode(new ArraySegment<byte>(Array.Empty<byte>())));
    }
}
