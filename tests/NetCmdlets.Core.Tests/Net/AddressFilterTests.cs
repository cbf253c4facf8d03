using System.Net;
using NetCmdlets.Core.Net;
using Xunit;

namespace NetCmdlets.Core.Tests.Net;

public class AddressFilterTests
{
    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.255.255.255", true)]
    [InlineData("11.0.0.1", false)]
    [InlineData("10.9.0.1", false)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", false)]
    public void AllowedRangesLetIn_DeniedOnesWinInsideThem(string address, bool permitted)
    {
        var filter = new AddressFilter(new[] { "10.0.0.0/8", "fd00::/8" }, new[] { "10.9.0.0/16" });
        Assert.Equal(permitted, filter.Permits(IPAddress.Parse(address)));
    }

    [Fact]
    public void WithoutAllowEverythingButTheDeniedIsLetIn()
    {
        var filter = new AddressFilter(null, new[] { "192.168.1.7", "2001:db8::/32" });
        Assert.True(filter.Permits(IPAddress.Parse("192.168.1.8")));
        Assert.False(filter.Permits(IPAddress.Parse("192.168.1.7")));
        Assert.False(filter.Permits(IPAddress.Parse("2001:db8:1::5")));
        Assert.True(filter.Permits(IPAddress.Parse("2001:db9::5")));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("::/129")]
    [InlineData("10.0.0.0/x")]
    [InlineData("example.com")]
    [InlineData("10/8")]
    [InlineData("010.0.0.0/8")]
    [InlineData("192.168.1/24")]
    [InlineData("0x7f.0.0.1")]
    public void EntriesThatAreNotRangesAreRefused(string entry)
    {
        Assert.Throws<FormatException>(() => new AddressFilter(new[] { entry }, null));
    }

    [Fact]
    public void PrefixesThatAreNotWholeBytesMaskTheRightBits()
    {
        var filter = new AddressFilter(new[] { "192.168.0.0/23", "0.0.0.0/0" }, new[] { "172.16.0.0/12" });
        Assert.False(filter.Permits(IPAddress.Parse("172.31.255.255")));
        Assert.True(filter.Permits(IPAddress.Parse("172.32.0.0")));
        Assert.True(filter.Permits(IPAddress.Parse("8.8.8.8")));
    }
}
