using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class LineFramerTests
{
    // ----- test data -----------------------------------------------------------------------------

    /// <summary>Text pieces chosen to stress the framer: empty, ASCII, multi-byte UTF-8, and characters whose
    /// UTF-16/UTF-32 code units contain the bytes 0x0A or 0x0D (which must never be taken for LF or CR).</summary>
    private static readonly string[] Pieces =
    {
        "",
        "a",
        "hello world",
        "caf\u00e9 na\u00efve \u00fc\u00df",          // Latin-1 range, 2-byte UTF-8
        "\u65e5\u672c\u8a9e",                          // CJK, 3-byte UTF-8
        "\U0001F60A smile",                            // surrogate pair D83D DE0A: low byte 0x0A in UTF-16LE
        "\u0A00\u0100",                                // UTF-16LE 00 0A 00 01: a misaligned 0A 00 at offset 1
        "\u010A",                                      // UTF-16LE 0A 01, UTF-32LE 0A 01 00 00
        "\u0A0A\u0D0D",                                // every byte 0x0A / 0x0D in UTF-16
        "x\u0D00",                                     // UTF-16LE ... 00 0D just before the LF: not a CR
        "\u0A00\0",                                    // UTF-32LE 00 0A 00 00 00 00 00 00: misaligned LF at offset 1
        "\u0100\u0A41",                                // UTF-16BE 01 00 0A 41: a misaligned 00 0A at offset 1
        "tab\there",
        "\u0D0A",                                      // UTF-16LE 0A 0D, BE 0D 0A
        "\U00010A0D",                                  // Kharoshthi, UTF-32LE 0D 0A 01 00
    };

    /// <summary>50 lines of varied length, some empty, with LF and CRLF endings. Only characters that
    /// <paramref name="encoding"/> can represent are used.</summary>
    private static List<(string Text, bool Crlf)> MakeLines(Encoding encoding, int count = 50)
    {
        string[] usable = Pieces.Where(p => encoding.GetString(encoding.GetBytes(p)) == p).ToArray();
        var lines = new List<(string, bool)>();
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int parts = (i * 7) % 5;                   // 0..4 pieces: includes empty lines
            for (int j = 0; j < parts; j++) sb.Append(usable[(i * 3 + j * 5) % usable.Length]);
            if (i % 11 == 10) sb.Append('z', 60 + i);  // a few long lines
            lines.Add((sb.ToString(), i % 3 == 1));
        }
        return lines;
    }

    private static byte[] Stream(Encoding encoding, IEnumerable<(string Text, bool Crlf)> lines, string? trailing = null)
    {
        var sb = new StringBuilder();
        foreach (var (text, crlf) in lines) sb.Append(text).Append(crlf ? "\r\n" : "\n");
        if (trailing is not null) sb.Append(trailing);
        return encoding.GetBytes(sb.ToString());
    }

    private static void AssertMessages(IReadOnlyList<byte[]> expected, IReadOnlyList<byte[]> actual, string context = "")
    {
        Assert.True(expected.Count == actual.Count, $"{context}: expected {expected.Count} messages, got {actual.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]),
                $"{context}: message {i} differs: expected [{Convert.ToHexString(expected[i])}] got [{Convert.ToHexString(actual[i])}]");
        }
    }

    private static List<byte[]> Expected(Encoding encoding, IEnumerable<(string Text, bool Crlf)> lines) =>
        lines.Select(l => encoding.GetBytes(l.Text)).ToList();

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Repeat(char c, int n) => Bytes(new string(c, n));

    private static ArraySegment<byte> Seg(byte[] bytes) => new(bytes);

    public static TheoryData<string> AllEncodingNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in TextEncodings.Names) data.Add(name);
        return data;
    }

    public static TheoryData<string> MultiByteEncodingNames() => new() { "unicode", "bigendianunicode", "utf32" };

    // ----- UTF-8: whole reads, splits, one byte at a time ----------------------------------------------

    [Fact]
    public void DefaultsAreUtf8AndOneMebibyte()
    {
        var framer = new LineFramer();
        Assert.Equal(LineFramer.DefaultMaxMessageLength, framer.MaxMessageLength);
        Assert.Equal(1024 * 1024, framer.MaxMessageLength);
        Assert.Equal(new byte[] { 0x61, 0x0A }, framer.Encode(Seg(Bytes("a"))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void RejectsNonPositiveMaximum(int max)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineFramer(null, max));
    }

    [Fact]
    public void ManyLinesInOneRead_AllInOrder_CrStripped()
    {
        var lines = MakeLines(TextEncodings.Utf8);
        Assert.Contains(lines, l => l.Text.Length == 0);
        Assert.Contains(lines, l => l.Crlf);
        Assert.Contains(lines, l => !l.Crlf);
        Assert.Contains(lines, l => l.Text.Any(c => c > 0x7F));

        var messages = FramerHarness.ReadWhole(new LineFramer(), Stream(TextEncodings.Utf8, lines));

        AssertMessages(Expected(TextEncodings.Utf8, lines), messages);
        Assert.Equal(lines.Select(l => l.Text), messages.Select(m => TextEncodings.Utf8.GetString(m)));
        Assert.DoesNotContain(messages, m => m.Contains((byte)'\r') || m.Contains((byte)'\n'));
    }

    [Fact]
    public void ManyLines_SplitIntoTwoReadsAtEveryOffset_SameMessages()
    {
        var lines = MakeLines(TextEncodings.Utf8);
        byte[] stream = Stream(TextEncodings.Utf8, lines);
        var expected = Expected(TextEncodings.Utf8, lines);
        var framer = new LineFramer();

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"split at {split}");
    }

    [Fact]
    public void ManyLines_OneByteAtATime_SameMessages()
    {
        var lines = MakeLines(TextEncodings.Utf8);
        AssertMessages(Expected(TextEncodings.Utf8, lines),
            FramerHarness.ReadByteByByte(new LineFramer(), Stream(TextEncodings.Utf8, lines)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1, 5, 2, 64)]
    public void ManyLines_InVariousChunkSizes_SameMessages(params int[] sizes)
    {
        var lines = MakeLines(TextEncodings.Utf8);
        AssertMessages(Expected(TextEncodings.Utf8, lines),
            FramerHarness.ReadInChunks(new LineFramer(), Stream(TextEncodings.Utf8, lines), sizes));
    }

    [Fact]
    public void TryRead_ReturnsOnlyTheFirstLine_AsSliceOfInput()
    {
        byte[] buffer = Bytes("##one\r\ntwo\n");
        var input = new ArraySegment<byte>(buffer, 2, buffer.Length - 2);

        Assert.True(new LineFramer().TryRead(input, out var message, out int consumed));

        Assert.Same(buffer, message.Array);
        Assert.Equal(2, message.Offset);
        Assert.Equal("one", Encoding.UTF8.GetString(message));
        Assert.Equal(5, consumed);
    }

    [Fact]
    public void TryRead_WithoutLineFeed_AsksForMore()
    {
        var framer = new LineFramer();
        Assert.False(framer.TryRead(Seg(Bytes("partial\r")), out _, out int consumed));
        Assert.Equal(0, consumed);
        Assert.False(framer.TryRead(Seg(Array.Empty<byte>()), out _, out consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void OnlyTheLastCrBeforeLfIsStripped()
    {
        var messages = FramerHarness.ReadWhole(new LineFramer(), Bytes("a\r\r\n\r\n\rb\n\n"));
        AssertMessages(new[] { Bytes("a\r"), Bytes(""), Bytes("\rb"), Bytes("") }, messages);
    }

    // ----- end of stream -------------------------------------------------------------------------------

    [Fact]
    public void TrailingLineWithoutLf_IsReturnedByTryReadFinal()
    {
        var lines = MakeLines(TextEncodings.Utf8, 10);
        byte[] stream = Stream(TextEncodings.Utf8, lines, "last \u00e9");
        var expected = Expected(TextEncodings.Utf8, lines);
        expected.Add(Bytes("last \u00e9"));

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(new LineFramer(), stream, split), $"split at {split}");
        AssertMessages(expected, FramerHarness.ReadByteByByte(new LineFramer(), stream));
    }

    [Fact]
    public void EachLine_SaysWhatEndedIt_SoItsBytesCanBeHadBack()
    {
        var framer = new LineFramer();
        byte[] input = Bytes("a\r\nb\n\r\nc\r");
        var endings = new List<LineEnding>();
        var rebuilt = new List<byte>();
        int at = 0;
        while (framer.TryRead(new ArraySegment<byte>(input, at, input.Length - at), out var message, out int consumed))
        {
            endings.Add(framer.LastEnding);
            rebuilt.AddRange(message);
            rebuilt.AddRange(framer.LastEnding == LineEnding.CRLF ? Bytes("\r\n") : Bytes("\n"));
            at += consumed;
        }
        Assert.True(framer.TryReadFinal(new ArraySegment<byte>(input, at, input.Length - at), out var last));
        endings.Add(framer.LastEnding);
        rebuilt.AddRange(last);
        rebuilt.Add((byte)'\r');
        Assert.Equal(new[] { LineEnding.CRLF, LineEnding.LF, LineEnding.CRLF, LineEnding.CR }, endings);
        Assert.Equal(input, rebuilt.ToArray());

        Assert.True(new LineFramer().TryReadFinal(Seg(Bytes("tail")), out _));
        var plain = new LineFramer();
        plain.TryReadFinal(Seg(Bytes("tail")), out _);
        Assert.Equal(LineEnding.None, plain.LastEnding);
    }

    [Fact]
    public void TrailingCr_IsStrippedByTryReadFinal()
    {
        AssertMessages(new[] { Bytes("a"), Bytes("b") }, FramerHarness.ReadWhole(new LineFramer(), Bytes("a\nb\r")));
    }

    [Fact]
    public void EmptyRemainder_GivesNoFinalMessage()
    {
        var framer = new LineFramer();
        Assert.False(framer.TryReadFinal(Seg(Array.Empty<byte>()), out _));
        Assert.False(framer.TryReadFinal(new ArraySegment<byte>(Bytes("abc\n"), 4, 0), out _));

        Assert.Empty(FramerHarness.ReadAll(framer, Array.Empty<byte[]>()));
        AssertMessages(new[] { Bytes("a"), Bytes("") }, FramerHarness.ReadWhole(framer, Bytes("a\n\n")));
    }

    [Fact]
    public void TryReadFinal_ReturnsSliceOfInput()
    {
        byte[] buffer = Bytes("xxtail");
        Assert.True(new LineFramer().TryReadFinal(new ArraySegment<byte>(buffer, 2, 4), out var message));
        Assert.Same(buffer, message.Array);
        Assert.Equal(2, message.Offset);
        Assert.Equal("tail", Encoding.UTF8.GetString(message));
    }

    // ----- maximum length (UTF-8) -----------------------------------------------------------------------

    private const int Max = 16;

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void LineOfExactlyMax_IsAccepted_AtEverySplit(string ending)
    {
        var framer = new LineFramer(null, Max);
        byte[] line = Repeat('m', Max);
        byte[] stream = Bytes("ab\n" + new string('m', Max) + ending + "cd" + ending);
        var expected = new[] { Bytes("ab"), line, Bytes("cd") };

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"split at {split}");
        AssertMessages(expected, FramerHarness.ReadByteByByte(framer, stream));
    }

    [Fact]
    public void LineOfExactlyMax_Direct()
    {
        var framer = new LineFramer(null, Max);
        byte[] line = Repeat('m', Max);

        Assert.True(framer.TryRead(Seg([.. line, (byte)'\n']), out var message, out int consumed));
        Assert.Equal(Max, message.Count);
        Assert.Equal(Max + 1, consumed);

        Assert.True(framer.TryRead(Seg([.. line, (byte)'\r', (byte)'\n']), out message, out consumed));
        Assert.Equal(Max, message.Count);
        Assert.Equal(Max + 2, consumed);

        // Before the terminator arrives: the line itself, and the line plus its CR, must wait, not throw.
        Assert.False(framer.TryRead(Seg(line), out _, out _));
        Assert.False(framer.TryRead(Seg([.. line, (byte)'\r']), out _, out _));

        // At end of stream.
        Assert.True(framer.TryReadFinal(Seg(line), out message));
        Assert.Equal(Max, message.Count);
        Assert.True(framer.TryReadFinal(Seg([.. line, (byte)'\r']), out message));
        Assert.Equal(Max, message.Count);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void LineOfMaxPlusOne_WithLineFeedPresent_Throws(string ending)
    {
        var framer = new LineFramer(null, Max);
        byte[] input = Bytes(new string('x', Max + 1) + ending);
        Assert.Throws<FramingException>(() => framer.TryRead(Seg(input), out _, out _));
    }

    [Fact]
    public void LineOfMaxPlusOne_EndingInCr_WithLineFeedPresent_Throws()
    {
        // Max bytes of text plus a CR that is part of the line, plus the CRLF terminator.
        var framer = new LineFramer(null, Max);
        byte[] input = Bytes(new string('x', Max) + "\r\r\n");
        Assert.Throws<FramingException>(() => framer.TryRead(Seg(input), out _, out _));
    }

    [Fact]
    public void OversizedLine_AfterGoodLines_ThrowsOnlyWhenReached()
    {
        var framer = new LineFramer(null, Max);
        byte[] buffer = Bytes("ok\n" + new string('x', Max + 5) + "\n");

        Assert.True(framer.TryRead(Seg(buffer), out var message, out int consumed));
        Assert.Equal("ok", Encoding.UTF8.GetString(message));
        var rest = new ArraySegment<byte>(buffer, consumed, buffer.Length - consumed);
        Assert.Throws<FramingException>(() => framer.TryRead(rest, out _, out _));
    }

    [Theory]
    [InlineData(Max + 2)]
    [InlineData(Max + 3)]
    [InlineData(Max * 10)]
    public void BufferPastTheLimit_WithoutLineFeed_Throws(int length)
    {
        var framer = new LineFramer(null, Max);
        Assert.Throws<FramingException>(() => framer.TryRead(Seg(Repeat('x', length)), out _, out _));
    }

    [Fact]
    public void EndlessLine_FedByteByByte_ThrowsBeforeTheBufferGrowsFarPastTheLimit()
    {
        var framer = new LineFramer(null, Max);
        var buffer = new List<byte>();
        for (int i = 0; i < Max * 4; i++)
        {
            buffer.Add((byte)'x');
            try
            {
                Assert.False(framer.TryRead(Seg(buffer.ToArray()), out _, out _));
            }
            catch (FramingException)
            {
                // Max+1 bytes may still be "Max bytes + CR", so throwing there is optional; Max+2 is not.
                Assert.InRange(buffer.Count, Max + 1, Max + 2);
                return;
            }
        }
        Assert.Fail("No FramingException for a line that never ends.");
    }

    [Fact]
    public void OversizedLine_ThrowsThroughHarness_InAnySplit()
    {
        byte[] stream = Bytes("a\n" + new string('x', Max + 1) + "\nb\n");
        for (int split = 0; split <= stream.Length; split++)
        {
            int at = split;
            Assert.Throws<FramingException>(() => FramerHarness.ReadSplit(new LineFramer(null, Max), stream, at));
        }
        Assert.Throws<FramingException>(() => FramerHarness.ReadByteByByte(new LineFramer(null, Max), stream));
    }

    [Fact]
    public void OversizedTrailingLine_ThrowsInTryReadFinal()
    {
        var framer = new LineFramer(null, Max);
        Assert.Throws<FramingException>(() => framer.TryReadFinal(Seg(Repeat('x', Max + 1)), out _));
        Assert.Throws<FramingException>(() => framer.TryReadFinal(Seg(Bytes(new string('x', Max + 1) + "\r")), out _));
    }

    // ----- UTF-16 and UTF-32 ----------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(AllEncodingNames))]
    public void AnyKnownEncoding_ManyLines_WholeAndByteByByte(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        var lines = MakeLines(encoding);
        byte[] stream = Stream(encoding, lines, "tail");
        var expected = Expected(encoding, lines);
        expected.Add(encoding.GetBytes("tail"));
        var framer = new LineFramer(encoding, LineFramer.DefaultMaxMessageLength);

        AssertMessages(expected, FramerHarness.ReadWhole(framer, stream), "whole");
        AssertMessages(expected, FramerHarness.ReadByteByByte(framer, stream), "byte by byte");
        AssertMessages(expected, FramerHarness.ReadInChunks(framer, stream, 3, 5, 1), "odd chunks");
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_SplitAtEveryOffset_SameMessages(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        var lines = MakeLines(encoding, 30);
        byte[] stream = Stream(encoding, lines);
        var expected = Expected(encoding, lines);
        var framer = new LineFramer(encoding, LineFramer.DefaultMaxMessageLength);

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"{name} split at {split}");
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_BytesThatLookLikeLfOrCr_AreNotTerminators(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        string[] texts = { "\u0A00", "\u010A", "\u0A00\u0100", "\u0A00\0", "\u0100\u0A41", "\U0001F60A", "x\u0D00", "\u0D0A\u0A0D", "\U00010A0D", "\u0D00" };
        var lines = texts.Select((t, i) => (t, i % 2 == 0)).ToList();
        byte[] stream = Stream(encoding, lines);

        // The test data really does contain raw 0x0A bytes that are not line feeds.
        int lineFeeds = stream.Count(b => b == 0x0A);
        Assert.True(lineFeeds > lines.Count, $"{name}: only {lineFeeds} bytes 0x0A in the stream");

        var expected = Expected(encoding, lines);
        var framer = new LineFramer(encoding, 64);
        AssertMessages(expected, FramerHarness.ReadWhole(framer, stream), "whole");
        AssertMessages(expected, FramerHarness.ReadByteByByte(framer, stream), "byte by byte");
        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"{name} split at {split}");
    }

    [Fact]
    public void Utf16_CrOnlyStrippedWhenAlignedBeforeLf()
    {
        Encoding utf16 = TextEncodings.Get("unicode");
        // "x" U+0D00 LF: bytes 78 00 00 0D 0A 00. Read byte-wise, "0D 0A" sits in the middle; neither the
        // misaligned 0D nor 0A may be used.
        byte[] stream = utf16.GetBytes("x\u0D00\n");
        Assert.True(new LineFramer(utf16, 64).TryRead(Seg(stream), out var message, out int consumed));
        Assert.Equal("x\u0D00", utf16.GetString(message));
        Assert.Equal(stream.Length, consumed);
    }

    [Fact]
    public void Utf16_HalfALineFeed_AsksForMore()
    {
        Encoding utf16 = TextEncodings.Get("unicode");
        byte[] stream = utf16.GetBytes("ab\n");
        var framer = new LineFramer(utf16, 64);
        Assert.False(framer.TryRead(Seg(stream[..^1]), out _, out int consumed));
        Assert.Equal(0, consumed);
        Assert.True(framer.TryRead(Seg(stream), out var message, out consumed));
        Assert.Equal("ab", utf16.GetString(message));
        Assert.Equal(6, consumed);
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_LineOfExactlyMax_LfOnly_AcceptedAtEverySplit(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        string line = "abcd";
        int max = encoding.GetByteCount(line);
        var framer = new LineFramer(encoding, max);
        byte[] stream = encoding.GetBytes("ab\n" + line + "\ncd\n");
        var expected = new[] { encoding.GetBytes("ab"), encoding.GetBytes(line), encoding.GetBytes("cd") };

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"{name} split at {split}");
        AssertMessages(expected, FramerHarness.ReadByteByByte(framer, stream), "byte by byte");
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_LineOfExactlyMax_Crlf_InOneRead_Accepted(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        string line = "abcd";
        int max = encoding.GetByteCount(line);
        var framer = new LineFramer(encoding, max);

        AssertMessages(new[] { encoding.GetBytes(line) }, FramerHarness.ReadWhole(framer, encoding.GetBytes(line + "\r\n")));
        // Line and CR arrived, LF not yet: must wait.
        Assert.False(framer.TryRead(Seg(encoding.GetBytes(line + "\r")), out _, out _));
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_LineOfExactlyMax_Crlf_AcceptedAtEverySplit(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        string line = "abcd";
        int max = encoding.GetByteCount(line);
        var framer = new LineFramer(encoding, max);
        byte[] stream = encoding.GetBytes("ab\r\n" + line + "\r\ncd\r\n");
        var expected = new[] { encoding.GetBytes("ab"), encoding.GetBytes(line), encoding.GetBytes("cd") };

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(expected, FramerHarness.ReadSplit(framer, stream, split), $"{name} split at {split}");
        AssertMessages(expected, FramerHarness.ReadByteByByte(framer, stream), "byte by byte");
    }

    [Theory]
    [MemberData(nameof(MultiByteEncodingNames))]
    public void MultiByteEncoding_LineOverMax_Throws(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        int max = encoding.GetByteCount("abcd");
        var framer = new LineFramer(encoding, max);

        Assert.Throws<FramingException>(() => framer.TryRead(Seg(encoding.GetBytes("abcde\n")), out _, out _));
        Assert.Throws<FramingException>(() => framer.TryRead(Seg(encoding.GetBytes("abcde\r\n")), out _, out _));
        // No LF yet, but the buffer can only be an oversized line.
        Assert.Throws<FramingException>(() => framer.TryRead(Seg(encoding.GetBytes("abcdef")), out _, out _));
        Assert.Throws<FramingException>(() => framer.TryReadFinal(Seg(encoding.GetBytes("abcde")), out _));
    }

    // ----- Encode ---------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(AllEncodingNames))]
    public void Encode_AppendsLineFeed_AndRoundTrips(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        var framer = new LineFramer(encoding, LineFramer.DefaultMaxMessageLength);
        byte[] lf = encoding.GetBytes("\n");

        foreach (string text in Pieces.Where(p => encoding.GetString(encoding.GetBytes(p)) == p))
        {
            byte[] payload = encoding.GetBytes(text);
            // Pass a slice of a larger array to check the offset is honoured.
            byte[] padded = [0xEE, 0xEE, .. payload, 0xEE];
            byte[] framed = framer.Encode(new ArraySegment<byte>(padded, 2, payload.Length));

            Assert.Equal([.. payload, .. lf], framed);
            Assert.True(framer.TryRead(Seg(framed), out var message, out int consumed), $"{name}: '{text}'");
            Assert.Equal(framed.Length, consumed);
            Assert.Equal(payload, message.ToArray());
        }
    }

    [Fact]
    public void Encode_ManyPayloads_ConcatenatedAndSplitAnywhere_RoundTrip()
    {
        Encoding utf16 = TextEncodings.Get("unicode");
        var framer = new LineFramer(utf16, 256);
        var payloads = MakeLines(utf16, 20).Select(l => utf16.GetBytes(l.Text)).ToList();
        byte[] stream = payloads.SelectMany(p => framer.Encode(Seg(p))).ToArray();

        for (int split = 0; split <= stream.Length; split++)
            AssertMessages(payloads, FramerHarness.ReadSplit(framer, stream, split), $"split at {split}");
    }

    [Fact]
    public void Encode_EmptyPayload_IsJustTheLineFeed()
    {
        Assert.Equal(new byte[] { 0x0A }, new LineFramer().Encode(Seg(Array.Empty<byte>())));
        Assert.Equal(new byte[] { 0x0A, 0x00 }, new LineFramer(TextEncodings.Get("unicode"), 8).Encode(Seg(Array.Empty<byte>())));
        Assert.Equal(new byte[] { 0x00, 0x0A }, new LineFramer(TextEncodings.Get("bigendianunicode"), 8).Encode(Seg(Array.Empty<byte>())));
        Assert.Equal(new byte[] { 0x0A, 0, 0, 0 }, new LineFramer(TextEncodings.Get("utf32"), 8).Encode(Seg(Array.Empty<byte>())));
    }

    [Fact]
    public void Encode_WithBomEncoding_DoesNotEmitPreamble()
    {
        var framer = new LineFramer(TextEncodings.Get("utf8BOM"), 64);
        Assert.Equal(Bytes("hi\n"), framer.Encode(Seg(Bytes("hi"))));
    }
}
