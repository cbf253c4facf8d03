using System;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Udp;

/// <summary>
/// The network interface multicast goes in and out of, as the socket options want it: an IPv4 address
/// for IPv4 groups and an interface index for IPv6 groups.
/// </summary>
public sealed class MulticastInterface
{
    private MulticastInterface(string name, int index, IPAddress? ipv4Address)
    {
        Name = name;
        Index = index;
        IPv4Address = ipv4Address;
    }

    /// <summary>The name users gave or the system's name of the interface (lo, eth0).</summary>
    public string Name { get; }

    /// <summary>The system's index of the interface; 0 when only an IPv4 address was given and no interface has it.</summary>
    public int Index { get; }

    /// <summary>An IPv4 address of the interface, for IPv4 groups; null when it has none.</summary>
    public IPAddress? IPv4Address { get; }

    /// <summary>
    /// Finds an interface by its name (lo, eth0, "Ethernet 2"), its index (1) or one of its addresses
    /// (127.0.0.1, fe80::1).
    /// </summary>
    /// <exception cref="NetException">AddressNotAvailable: no interface of this machine matches.</exception>
    public static MulticastInterface Resolve(string text)
    {
        string value = (text ?? string.Empty).Trim();
        NetworkInterface[] all;
        try
        {
            all = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            all = new NetworkInterface[0];
        }
        IPAddress.TryParse(value.Trim('[', ']'), out IPAddress? address);
        bool isIndex = int.TryParse(value, out int index) && index > 0;
        foreach (NetworkInterface candidate in all)
        {
            int candidateIndex = IndexOf(candidate);
            bool matches = string.Equals(candidate.Name, value, StringComparison.OrdinalIgnoreCase)
                || string.Equals(candidate.Id, value, StringComparison.OrdinalIgnoreCase)
                || (isIndex && candidateIndex == index)
                || (address is not null && Addresses(candidate).Any(a => a.Equals(address) || SameIgnoringScope(a, address)));
            if (matches) return new MulticastInterface(candidate.Name, candidateIndex, Ipv4Of(candidate, address));
        }
        // An IPv4 address that no interface lists (some systems hide aliases) still names the interface to the kernel.
        if (address is not null && address.AddressFamily == AddressFamily.InterNetwork) return new MulticastInterface(value, 0, address);
        string known = string.Join(", ", all.Select(i => $"{i.Name} ({IndexOf(i)})"));
        throw new NetException(NetErrorKind.AddressNotAvailable, value,
            $"No network interface of this machine is named, numbered or addressed '{value}'. Interfaces: {known}.");
    }

    public override string ToString() => Index > 0 ? $"{Name} ({Index})" : Name;

    private static IPAddress[] Addresses(NetworkInterface candidate)
    {
        try
        {
            return candidate.GetIPProperties().UnicastAddresses.Select(a => a.Address).ToArray();
        }
        catch (NetworkInformationException)
        {
            return new IPAddress[0];
        }
    }

    private static bool SameIgnoringScope(IPAddress a, IPAddress b) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 && b.AddressFamily == AddressFamily.InterNetworkV6
        && new IPAddress(a.GetAddressBytes()).Equals(new IPAddress(b.GetAddressBytes()));

    private static IPAddress? Ipv4Of(NetworkInterface candidate, IPAddress? given) =>
        given is { AddressFamily: AddressFamily.InterNetwork }
            ? given
            : Addresses(candidate).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);

    private static int IndexOf(NetworkInterface candidate)
    {
        try
        {
            IPInterfaceProperties properties = candidate.GetIPProperties();
            if (candidate.Supports(NetworkInterfaceComponent.IPv6)) return properties.GetIPv6Properties().Index;
            if (candidate.Supports(NetworkInterfaceComponent.IPv4)) return properties.GetIPv4Properties().Index;
        }
        catch (NetworkInformationException)
        {
        }
        catch (PlatformNotSupportedException)
        {
        }
        return 0;
    }
}
