using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Udp;

namespace NetCmdlets;

/// <summary>What Receive-UdpDatagram and Start-UdpServer share: the multicast groups they join and where they bind for them.</summary>
internal static class UdpListening
{
    /// <exception cref="NetException">A group or the interface is not valid.</exception>
    public static UdpServer CreateServer(IPEndPoint localEndPoint, Encoding encoding, string[]? groups, string? via) =>
        new(localEndPoint, encoding, options: Options(groups, via));

    /// <summary>
    /// Where a receiver of <paramref name="groups"/> binds when -LocalAddress is not given; null without groups.
    /// A group's datagrams are addressed to the group, not to loopback. Where the system allows it (not
    /// on Windows), one group is bound itself, so the port takes that group's datagrams and nothing sent
    /// to this computer's own addresses; otherwise every address of the groups' family.
    /// </summary>
    /// <param name="via">-Interface: an IPv6 group of link or interface scope is bound with its index.</param>
    public static IPAddress? DefaultBind(string[]? groups, string? via)
    {
        if (groups is null || groups.Length == 0) return null;
        IPAddress[] parsed = Multicast.ParseGroups(groups);
        bool v6 = parsed[0].AddressFamily == AddressFamily.InterNetworkV6;
        if (parsed.Length > 1 || RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return v6 ? IPAddress.IPv6Any : IPAddress.Any;
        IPAddress group = parsed[0];
        if (!v6 || (group.GetAddressBytes()[1] & 0x0F) > 2) return group;
        // A group of link or interface scope is bound with the interface's index; without one, every address.
        int index = string.IsNullOrWhiteSpace(via) ? 0 : MulticastInterface.Resolve(via!).Index;
        return index > 0 ? new IPAddress(group.GetAddressBytes(), index) : IPAddress.IPv6Any;
    }

    private static UdpServerOptions Options(string[]? groups, string? via) => new()
    {
        MulticastGroups = groups is { Length: > 0 } ? Multicast.ParseGroups(groups) : new IPAddress[0],
        Interface = string.IsNullOrWhiteSpace(via) ? null : MulticastInterface.Resolve(via!),
    };
}
