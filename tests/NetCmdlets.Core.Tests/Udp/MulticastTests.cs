using System.Net;
using System.Net.Sockets;
using NetCmdlets.Core;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Udp;
using Xunit;

namespace NetCmdlets.Core.Tests.Udp;

public class MulticastTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.255", true)]
    [InlineData("223.255.255.255", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("ff02::1", true)]
    [InlineData("fe80::1", false)]
    [InlineData("127.0.0.1", false)]
    public void IsGroup_KnowsTheMulticastRanges(string address, bool expected) =>
        Assert.Equal(expected, Multicast.IsGroup(IPAddress.Parse(address)));

    [Fact]
    public void ParseGroups_RefusesUnicastAndMixedFamilies()
    {
        Assert.Equal(new[] { IPAddress.Parse("239.1.2.3"), IPAddress.Parse("224.0.0.251") }, Multicast.ParseGroups(new[] { "239.1.2.3", " 224.0.0.251 " }));
        Assert.Equal(IPAddress.Parse("ff15::1"), Multicast.ParseGroups(new[] { "[ff15::1]" })[0]);
        Assert.Equal(NetErrorKind.AddressNotAvailable, Assert.Throws<NetException>(() => Multicast.ParseGroups(new[] { "10.0.0.1" })).Kind);
        Assert.Equal(NetErrorKind.AddressNotAvailable, Assert.Throws<NetException>(() => Multicast.ParseGroups(new[] { "group" })).Kind);
        Assert.Contains("all be IPv4 or all be IPv6", Assert.Throws<NetException>(() => Multicast.ParseGroups(new[] { "239.1.2.3", "ff15::1" })).Message);
    }

    [Fact]
    public void Interface_IsFoundByName_IndexOrAddress()
    {
        if (!OperatingSystem.IsLinux()) return;
        MulticastInterface byName = MulticastInterface.Resolve("lo");
        Assert.Equal("lo", byName.Name);
        Assert.True(byName.Index > 0);
        Assert.Equal(IPAddress.Loopback, byName.IPv4Address);
        Assert.Equal("lo", MulticastInterface.Resolve(byName.Index.ToString()).Name);
        Assert.Equal("lo", MulticastInterface.Resolve("::1").Name);
        MulticastInterface byAddress = MulticastInterface.Resolve("127.0.0.1");
        Assert.Equal("lo", byAddress.Name);
        Assert.Equal(IPAddress.Loopback, byAddress.IPv4Address);
        NetException missing = Assert.Throws<NetException>(() => MulticastInterface.Resolve("no-such-nic"));
        Assert.Equal(NetErrorKind.AddressNotAvailable, missing.Kind);
        Assert.Contains("lo (", missing.Message);
    }

    [Fact]
    public async Task TwoServersOfOneGroup_ShareThePort_EachGetsTheDatagram_AddressedToTheGroup()
    {
        if (!OperatingSystem.IsLinux()) return;
        var group = IPAddress.Parse($"239.78.{Random.Shared.Next(1, 254)}.{Random.Shared.Next(1, 254)}");
        var options = new UdpServerOptions { MulticastGroups = new[] { group }, Interface = MulticastInterface.Resolve("lo") };
        // Bound to the group itself (Linux allows it), so nothing but the group's datagrams reach them.
        using var first = new UdpServer(new IPEndPoint(group, 0), options: options);
        first.Start();
        using var second = new UdpServer(new IPEndPoint(group, first.LocalEndPoint.Port), options: options);
        second.Start();
        Assert.Equal(new[] { group }, first.MulticastGroups);

        using UdpSender sender = await UdpSender.OpenAsync(group.ToString(), first.LocalEndPoint.Port,
            new UdpSendOptions { Interface = MulticastInterface.Resolve("lo"), TimeToLive = 1 }, CancellationToken.None);
        Assert.True(sender.IsMulticast);
        await sender.SendAsync(new byte[] { 1, 2, 3 });
        foreach (UdpServer server in new[] { first, second })
        {
            using var timeout = new CancellationTokenSource(Deadline);
            ServerEvent received = await server.TakeEventAsync(timeout.Token);
            Assert.Equal(new byte[] { 1, 2, 3 }, received.Message!.Data);
            Assert.Equal(group.ToString(), received.Message.LocalEndPoint.Address);
            Assert.Equal("127.0.0.1", received.Message.RemoteEndPoint.Address);
        }
        first.Dispose();
        Assert.Empty(first.MulticastGroups);
    }
}

public class HostAndPortTests
{
    [Theory]
    [InlineData("example.test:53", "example.test", 53)]
    [InlineData("192.0.2.1:514", "192.0.2.1", 514)]
    [InlineData("[2001:db8::1]:53", "2001:db8::1", 53)]
    [InlineData(" [::1]:65535 ", "::1", 65535)]
    public void ParseHostAndPort_SplitsTheForms(string text, string host, int port) =>
        Assert.Equal((host, port), EndPoints.ParseHostAndPort(text));

    [Theory]
    [InlineData("example.test")]
    [InlineData("::1:53")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("[::1]53")]
    [InlineData(":53")]
    [InlineData("host:")]
    public void ParseHostAndPort_RefusesTheRest(string text) =>
        Assert.Equal(NetErrorKind.AddressNotAvailable, Assert.Throws<NetException>(() => EndPoints.ParseHostAndPort(text)).Kind);
}
