using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class DelimiterFramerTests
{
    [Theory]
    [InlineData(new byte[] { 0xAB })]
    [InlineData(new byte[] { 0xAB, 0xCD })]
    [InlineData(new byte[] { (byte)'\r', (byte)'\n', (byte)'.', (byte)'\r', (byte)'\n' })]
    public void SplitAtEveryOffset_AndMerged_GivesEveryMessage(byte[] delimiter)
    {
        // Payloads never hold the delimiter's first byte here, so they cannot contain the delimiter.
        List<byte[]> payloads = FramerRoundTrip.Payloads().Select(p => p.Select(b => b == delimiter[0] ? (byte)'x' : b).ToArray()).ToList();
        FramerRoundTrip.AssertEveryCut(() => new DelimiterFramer(delimiter, 1000), payloads);
    }

    [Fact]
    public void APartialDelimiter_InsideAMessage_IsNotTheEnd()
    {
        byte[] stream = Encoding.ASCII.GetBytes("a\r\n.x\r\n.\r\nb\r\n.\r\n");
        var messages = FramerHarness.ReadByteByByte(new DelimiterFramer(Encoding.ASCII.GetBytes("\r\n.\r\n"), 100), stream);
        Assert.Equal(new[] { "a\r\n.x", "b" }, messages.Select(m => Encoding.ASCII.GetString(m)));
    }

    [Fact]
    public void NoDelimiter_WithinTheMaximum_IsAFramingError_BeforeMoreIsHeld()
    {
        var framer = new DelimiterFramer(new byte[] { 0 }, 8);
        Assert.Throws<FramingException>(() => FramerHarness.ReadByteByByte(framer, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }));
    }

    [Fact]
    public void WhatFollowsTheLastDelimiter_IsTheLastMessage()
    {
        var messages = FramerHarness.ReadWhole(new DelimiterFramer(new byte[] { 0 }, 100), new byte[] { 1, 0, 2, 3 });
        Assert.Equal(new[] { new byte[] { 1 }, new byte[] { 2, 3 } }, messages);
    }

    [Fact]
    public void ATextDelimiterInUtf16_OnlyCountsWhereACharacterStarts()
    {
        var utf16 = new UnicodeEncoding(false, false);
        // U+0A01 U+0100 holds the bytes 0A 00 at an odd offset: not a line feed.
        byte[] stream = utf16.GetBytes("\u0A01\u0100x\nnext\n");
        var messages = FramerHarness.ReadByteByByte(new DelimiterFramer(utf16.GetBytes("\n"), 100, 2), stream);
        Assert.Equal(new[] { "\u0A01\u0100x", "next" }, messages.Select(m => utf16.GetString(m)));
    }
}
