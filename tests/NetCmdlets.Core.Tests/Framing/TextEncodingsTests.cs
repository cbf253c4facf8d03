using System.Text;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class TextEncodingsTests
{
    public static TheoryData<string> ShortNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in TextEncodings.Names) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShortNames))]
    public void EveryShortName_Resolves(string name)
    {
        Encoding encoding = TextEncodings.Get(name);
        Assert.NotNull(encoding);
        Assert.Equal("a", encoding.GetString(encoding.GetBytes("a")));
        // Case-insensitive and tolerant of surrounding blanks, like PowerShell's own parameter.
        Assert.Equal(encoding.CodePage, TextEncodings.Get(name.ToUpperInvariant()).CodePage);
        Assert.Equal(encoding.CodePage, TextEncodings.Get(" " + name + " ").CodePage);
    }

    [Theory]
    [InlineData("utf8", 65001, 0)]
    [InlineData("utf8BOM", 65001, 3)]
    [InlineData("ascii", 20127, 0)]
    [InlineData("latin1", 28591, 0)]
    [InlineData("unicode", 1200, 0)]
    [InlineData("bigendianunicode", 1201, 0)]
    [InlineData("utf32", 12000, 0)]
    [InlineData("utf-8", 65001, 0)]
    [InlineData("utf8NoBOM", 65001, 0)]
    [InlineData("utf-16", 1200, 0)]
    [InlineData("utf16", 1200, 0)]
    [InlineData("utf-32", 12000, 0)]
    public void ShortNames_MapToExpectedEncodings(string name, int codePage, int preambleLength)
    {
        Encoding encoding = TextEncodings.Get(name);
        Assert.Equal(codePage, encoding.CodePage);
        Assert.Equal(preambleLength, encoding.GetPreamble().Length);
    }

    [Fact]
    public void Utf8_IsTheSharedBomlessInstance()
    {
        Assert.Same(TextEncodings.Utf8, TextEncodings.Get("utf8"));
        Assert.Empty(TextEncodings.Utf8.GetPreamble());
    }

    [Theory]
    [InlineData("iso-8859-1", 28591)]
    [InlineData("us-ascii", 20127)]
    [InlineData("utf-16BE", 1201)]
    [InlineData("28591", 28591)]
    [InlineData("65001", 65001)]
    [InlineData("1200", 1200)]
    public void WebNamesAndCodePageNumbers_Resolve(string name, int codePage)
    {
        Assert.Equal(codePage, TextEncodings.Get(name).CodePage);
    }

    [Fact]
    public void Latin1_MapsEveryByte()
    {
        Encoding latin1 = TextEncodings.Get("iso-8859-1");
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(all, latin1.GetBytes(latin1.GetString(all)));
    }

    [Fact]
    public void NullName_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => TextEncodings.Get(null!));
    }

    [Theory]
    [InlineData("no-such-encoding")]
    [InlineData("")]
    public void UnknownName_Throws(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => TextEncodings.Get(name));
    }
}
