namespace NetCmdlets.Core.Udp;

/// <summary>How a sender's socket sends: to a broadcast address, how far, and for a group through which interface.</summary>
public sealed class UdpSendOptions
{
    /// <summary>Allows sending to a broadcast address (SO_BROADCAST).</summary>
    public bool Broadcast { get; set; }

    /// <summary>Hops a datagram may take (IP TTL, or the multicast hop limit for a group); null leaves the system's default (1 for groups).</summary>
    public int? TimeToLive { get; set; }

    /// <summary>For a group: whether members on this host get a copy too (the system's default is yes).</summary>
    public bool MulticastLoopback { get; set; } = true;

    /// <summary>For a group: the interface datagrams go out of; null lets the system pick by its routes.</summary>
    public MulticastInterface? Interface { get; set; }
}
