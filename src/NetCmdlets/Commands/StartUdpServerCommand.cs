using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Udp;
using NetCmdlets.Jobs;

namespace NetCmdlets.Commands;

/// <summary>Receives UDP datagrams and emits each; a handler's output goes back to the sender, one datagram per item.</summary>
[Cmdlet(VerbsLifecycle.Start, "UdpServer")]
[OutputType(typeof(UdpDatagram), typeof(NetServerJob))]
public sealed class StartUdpServerCommand : HandlerServerCommandBase
{
    protected override NetServer CreateServer(IPEndPoint localEndPoint) => new UdpServer(localEndPoint, Encoding);
}
