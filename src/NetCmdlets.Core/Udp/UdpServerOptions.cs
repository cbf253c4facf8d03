using System.Collections.Generic;
using System.Net;

namespace NetCmdlets.Core.Udp;

/// <summary>How a UDP server's socket is shared and which multicast groups it joins.</summary>
public sealed class UdpServerOptions
{
    /// <summary>Groups to join after binding and leave when the server stops; all of the bound address's family.</summary>
    public IReadOnlyList<IPAddress> MulticastGroups { get; set; } = new IPAddress[0];

    /// <summary>The interface to join the groups on; null lets the system pick by its routes.</summary>
    public MulticastInterface? Interface { get; set; }

    /// <summary>Lets other sockets bind the same port (always, with groups): each gets the group's and the broadcast datagrams.</summary>
    public bool ReuseAddress { get; set; }
}
