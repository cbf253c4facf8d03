using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;

namespace NetCmdlets.Commands;

/// <summary>Binds a UDP port and emits each datagram as it arrives.</summary>
[Cmdlet(VerbsCommunications.Receive, "UdpDatagram", DefaultParameterSetName = PortSet)]
[OutputType(typeof(UdpDatagram))]
[Parameters.UsesParameters(typeof(Parameters.UnixListenParameters), UnixSet)]
public sealed partial class ReceiveUdpDatagramCommand : ListenerCommandBase
{
    private const string UnixSet = "UnixSocket";

    /// <summary>A UNIX datagram socket instead of a port (what logger -u and syslog(3) send to).</summary>
    private protected override NetServer? CreateUnixServer() =>
        UnixListenParameters.Resolve(this) is { } unix ? new Core.Udp.UdpServer(unix, Encoding, mode: UnixListenParameters.Mode) : null;

    /// <summary>Multicast groups to join (all IPv4 or all IPv6), left when the cmdlet stops.</summary>
    [Parameter(ParameterSetName = PortSet)]
    public string[]? MulticastGroup { get; set; }

    /// <summary>The interface to join the groups on: a name (eth0), an index, or one of its addresses.</summary>
    [Parameter(ParameterSetName = PortSet)]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string? Interface { get; set; }

    protected override NetServer CreateServer(IPEndPoint localEndPoint) =>
        UdpListening.CreateServer(localEndPoint, Encoding, MulticastGroup, Interface);

    private protected override IPAddress? DefaultLocalAddress() => UdpListening.DefaultBind(MulticastGroup, Interface);
}
