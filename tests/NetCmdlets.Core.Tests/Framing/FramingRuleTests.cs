using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

/// <summary>Each malformed input names its framing and the rule it broke, for the error id scripts match on.</summary>
public class FramingRuleTests
{
    public static TheoryData<string, Func<IMessageFramer>, byte[]> Malformed => new()
    {
        { "FramingError.Line.MessageTooLong", () => new LineFramer(null, 4), Encoding.ASCII.GetBytes("abcdefgh") },
        { "FramingError.Json.MessageTooLong", () => MessageFraming.JsonLines(null, 4).CreateFramer(), Encoding.ASCII.GetBytes("{\"a\":12345}\n") },
        { "FramingError.Delimiter.MessageTooLong", () => new DelimiterFramer(new byte[] { 0 }, 4), Encoding.ASCII.GetBytes("abcdefgh") },
        { "FramingError.LengthPrefixed.MessageTooLong", () => new LengthPrefixedFramer(4, true, false, 4), new byte[] { 0, 0, 0, 5, 1, 2, 3, 4, 5 } },
        { "FramingError.LengthPrefixed.InvalidLength", () => new LengthPrefixedFramer(4, true, true, 64), new byte[] { 0, 0, 0, 2 } },
        { "FramingError.LengthPrefixed.Truncated", () => new LengthPrefixedFramer(4, true, false, 64), new byte[] { 0, 0, 0, 5, 1, 2 } },
        { "FramingError.OctetCounted.InvalidLength", () => new OctetCountedFramer(64), Encoding.ASCII.GetBytes("<13>hello\n") },
        { "FramingError.OctetCounted.MessageTooLong", () => new OctetCountedFramer(8), Encoding.ASCII.GetBytes("100 abc") },
        { "FramingError.OctetCounted.Truncated", () => new OctetCountedFramer(64), Encoding.ASCII.GetBytes("10 abc") },
        { "FramingError.Fixed.Truncated", () => new FixedLengthFramer(4), new byte[] { 1, 2, 3, 4, 5 } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedInputNamesItsFramingAndRule(string errorId, Func<IMessageFramer> make, byte[] stream)
    {
        FramingException whole = Assert.Throws<FramingException>(() => FramerHarness.ReadWhole(make(), stream));
        Assert.Equal(errorId, whole.ErrorId);
        FramingException bytewise = Assert.Throws<FramingException>(() => FramerHarness.ReadByteByByte(make(), stream));
        Assert.Equal(errorId, bytewise.ErrorId);
    }

    [Fact]
    public void APayloadTheFramingCannotCarryIsCannotFrame()
    {
        Assert.Equal("FramingError.Fixed.CannotFrame", Assert.Throws<FramingException>(() => new FixedLengthFramer(4).Encode(new ArraySegment<byte>(new byte[3]))).ErrorId);
        Assert.Equal("FramingError.LengthPrefixed.CannotFrame", Assert.Throws<FramingException>(() => new LengthPrefixedFramer(1, true, false, 1024).Encode(new ArraySegment<byte>(new byte[300]))).ErrorId);
        Assert.Equal("FramingError.OctetCounted.CannotFrame", Assert.Throws<FramingException>(() => new OctetCountedFramer(64).Encode(new ArraySegment<byte>(new byte[0]))).ErrorId);
    }

    [Fact]
    public void JsonLinesAreLines_SentWithLf()
    {
        MessageFraming json = MessageFraming.JsonLines();
        Assert.True(json.IsJson);
        Assert.Equal(10, json.JsonDepth);
        List<byte[]> messages = FramerHarness.ReadByteByByte(json.CreateFramer(), Encoding.UTF8.GetBytes("{\"a\":1}\r\n[1,2]\n"));
        Assert.Equal(new[] { "{\"a\":1}", "[1,2]" }, messages.Select(m => Encoding.UTF8.GetString(m)));
        Assert.Equal(Encoding.UTF8.GetBytes("{}\n"), json.CreateFramer().Encode(new ArraySegment<byte>(Encoding.UTF8.GetBytes("{}"))));
    }
}
