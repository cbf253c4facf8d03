using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Jobs;

namespace NetCmdlets.Commands;

/// <summary>
/// Receives UDP datagrams and emits each; a handler's output goes back to the sender, one datagram per
/// item, and $_.SendTo() sends from the server's socket to anyone else.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "UdpServer")]
[OutputType(typeof(UdpDatagram), typeof(NetServerJob))]
public sealed class StartUdpServerCommand : HandlerServerCommandBase
{
    /// <summary>Multicast groups to join (all IPv4 or all IPv6), left when the server stops.</summary>
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
