using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Udp;

namespace NetCmdlets.Commands;

/// <summary>Binds a UDP port and emits each datagram as it arrives.</summary>
[Cmdlet(VerbsCommunications.Receive, "UdpDatagram")]
[OutputType(typeof(UdpDatagram))]
public sealed class ReceiveUdpDatagramCommand : ListenerCommandBase
{
    protected override NetServer CreateServer(IPEndPoint localEndPoint) => new UdpServer(localEndPoint, Encoding);
}
