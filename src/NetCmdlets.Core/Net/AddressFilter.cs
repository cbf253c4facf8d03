using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>
/// Which client addresses a server lets in: an allow list (when given, only those) and a deny list
/// (always refused, even when allowed), of addresses and CIDR ranges, IPv4 and IPv6.
/// </summary>
public sealed class AddressFilter
{
    private readonly IReadOnlyList<AddressRange> _allow;
    private readonly IReadOnlyList<AddressRange> _deny;

    /// <exception cref="FormatException">An entry is not an address or a CIDR range.</exception>
    public AddressFilter(IEnumerable<string>? allow, IEnumerable<string>? deny)
    {
        _allow = (allow ?? Enumerable.Empty<string>()).Select(AddressRange.Parse).ToArray();
        _deny = (deny ?? Enumerable.Empty<string>()).Select(AddressRange.Parse).ToArray();
    }

    public bool Permits(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (_deny.Any(range => range.Contains(address))) return false;
        return _allow.Count == 0 || _allow.Any(range => range.Contains(address));
    }

    /// <summary>An address and a prefix length: 10.0.0.0/8, 2001:db8::/32, or one address (a full-length prefix).</summary>
    private sealed class AddressRange
    {
        private readonly byte[] _network;
        private readonly int _prefix;

        private AddressRange(byte[] network, int prefix)
        {
            _network = network;
            _prefix = prefix;
        }

        public static AddressRange Parse(string text)
        {
            string trimmed = text.Trim();
            int slash = trimmed.IndexOf('/');
            string addressText = slash < 0 ? trimmed : trimmed.Substring(0, slash);
            if (!IPAddress.TryParse(addressText, out IPAddress? address) || (address.AddressFamily == AddressFamily.InterNetwork && !IsDottedQuad(addressText)))
                throw new FormatException($"'{text}' is not an IP address or a CIDR range (10.0.0.0/8, ::1): IPv4 needs four decimal parts.");
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            byte[] bytes = address.GetAddressBytes();
            int prefix = bytes.Length * 8;
            if (slash >= 0 && (!int.TryParse(trimmed.Substring(slash + 1), out prefix) || prefix < 0 || prefix > bytes.Length * 8))
                throw new FormatException($"'{text}' has no valid prefix length: 0 to {bytes.Length * 8} for {(bytes.Length == 4 ? "IPv4" : "IPv6")}.");
            return new AddressRange(bytes, prefix);
        }

        // The system parser takes 10/8 as 0.0.0.10 and 010.0.0.1 as octal: a deny list must mean what it says.
        private static bool IsDottedQuad(string text)
        {
            string[] parts = text.Split('.');
            return parts.Length == 4 && parts.All(part => part.Length is > 0 and <= 3 && part.All(char.IsDigit) && (part.Length == 1 || part[0] != '0'));
        }

        public bool Contains(IPAddress address)
        {
            byte[] bytes = address.GetAddressBytes();
            if (bytes.Length != _network.Length) return false;
            int whole = _prefix / 8;
            for (int i = 0; i < whole; i++)
            {
                if (bytes[i] != _network[i]) return false;
            }
            int rest = _prefix % 8;
            if (rest == 0) return true;
            int mask = 0xFF << (8 - rest) & 0xFF;
            return (bytes[whole] & mask) == (_network[whole] & mask);
        }
    }
}
