using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;

namespace NetCmdlets.Commands;

/// <summary>Binds a UDP port and emits each datagram as it arrives.</summary>
[Cmdlet(VerbsCommunications.Receive, "UdpDatagram")]
[OutputType(typeof(UdpDatagram))]
public sealed class ReceiveUdpDatagramCommand : ListenerCommandBase
{
    /// <summary>Multicast groups to join (all IPv4 or all IPv6), left when the cmdlet stops.</summary>
    [Parameter]
    public string[]? MulticastGroup { get; set; }

    /// <summary>The interface to join the groups on: a name (eth0), an index, or one of its addresses.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string? Interface { get; set; }

    protected override NetServer CreateServer(IPEndPoint localEndPoint) =>
        UdpListening.CreateServer(localEndPoint, Encoding, MulticastGroup, Interface);

    private protected override IPAddress? DefaultLocalAddress() => UdpListening.DefaultBind(MulticastGroup, Interface);
}
