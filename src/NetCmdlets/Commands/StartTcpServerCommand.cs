using System.Management.Automation;
using System.Net;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Jobs;

namespace NetCmdlets.Commands;

/// <summary>Listens for TCP clients and emits every received message; a handler's output is the reply.</summary>
[Cmdlet(VerbsLifecycle.Start, "TcpServer")]
[OutputType(typeof(TcpMessage), typeof(NetServerJob))]
public sealed class StartTcpServerCommand : HandlerServerCommandBase
{
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    /// <summary>No framing: each chunk received is one message with its exact bytes, and replies go as they are.</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    protected override NetServer CreateServer(IPEndPoint localEndPoint) =>
        new TcpServer(localEndPoint, Raw ? ConnectionOptions.ForRaw(Encoding) : ConnectionOptions.ForLines(Encoding, MaxMessageLength));
}
