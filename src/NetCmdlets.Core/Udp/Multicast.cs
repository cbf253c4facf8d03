using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Udp;

/// <summary>Joining and leaving multicast groups, and the options of a socket that sends to one.</summary>
public static class Multicast
{
    /// <summary>True for 224.0.0.0/4 and ff00::/8.</summary>
    public static bool IsGroup(IPAddress address) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => (address.GetAddressBytes()[0] & 0xF0) == 0xE0,
        AddressFamily.InterNetworkV6 => address.IsIPv6Multicast,
        _ => false,
    };

    /// <summary>Parses group addresses, each a multicast address of one family.</summary>
    /// <exception cref="NetException">AddressNotAvailable: not an address, not a group, or groups of both families.</exception>
    public static IPAddress[] ParseGroups(IEnumerable<string> texts)
    {
        var groups = new List<IPAddress>();
        foreach (string text in texts)
        {
            string value = (text ?? string.Empty).Trim().Trim('[', ']');
            if (!IPAddress.TryParse(value, out IPAddress? group) || !IsGroup(group))
                throw new NetException(NetErrorKind.AddressNotAvailable, value,
                    $"'{value}' is not a multicast group address: IPv4 groups are 224.0.0.0 to 239.255.255.255, IPv6 groups start with ff.");
            if (groups.Count > 0 && groups[0].AddressFamily != group.AddressFamily)
                throw new NetException(NetErrorKind.AddressNotAvailable, value,
                    "The multicast groups of one receiver must all be IPv4 or all be IPv6; start one receiver for each family.");
            groups.Add(group);
        }
        return groups.ToArray();
    }

    /// <summary>Joins <paramref name="group"/> on <paramref name="via"/>, or on the interface the system picks for it when null.</summary>
    /// <exception cref="SocketException">The system refused (no such interface, no multicast route).</exception>
    public static void Join(Socket socket, IPAddress group, MulticastInterface? via) =>
        SetMembership(socket, group, via, SocketOptionName.AddMembership);

    /// <exception cref="SocketException">The system refused.</exception>
    public static void Leave(Socket socket, IPAddress group, MulticastInterface? via) =>
        SetMembership(socket, group, via, SocketOptionName.DropMembership);

    /// <summary>
    /// Sets how datagrams to <paramref name="destination"/> leave: the hops they may take, for a group
    /// whether this host's own members get a copy, and the interface they go out of.
    /// </summary>
    /// <exception cref="SocketException">The system refused an option.</exception>
    public static void PrepareSend(Socket socket, IPAddress destination, int? timeToLive, bool loopback, MulticastInterface? via)
    {
        bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
        if (!IsGroup(destination))
        {
            if (timeToLive is int hops) socket.Ttl = (short)hops;
            return;
        }
        if (timeToLive is int groupHops) socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, groupHops);
        socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, loopback);
        if (via is null) return;
        if (v6) socket.SetSocketOption(level, SocketOptionName.MulticastInterface, via.Index);
        else if (via.IPv4Address is { } address) socket.SetSocketOption(level, SocketOptionName.MulticastInterface, address.GetAddressBytes());
        else socket.SetSocketOption(level, SocketOptionName.MulticastInterface, IPAddress.HostToNetworkOrder(via.Index));
    }

    private static void SetMembership(Socket socket, IPAddress group, MulticastInterface? via, SocketOptionName option)
    {
        if (group.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetSocketOption(SocketOptionLevel.IPv6, option, new IPv6MulticastOption(group, via?.Index ?? 0));
            return;
        }
        MulticastOption membership = via switch
        {
            null => new MulticastOption(group),
            { IPv4Address: { } address } => new MulticastOption(group, address),
            _ => new MulticastOption(group, via.Index),
        };
        socket.SetSocketOption(SocketOptionLevel.IP, option, membership);
    }
}
