using System.Management.Automation;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Closes connections: what is queued is sent, then the connection ends; with -Send, only the sending side ends.</summary>
[Cmdlet(VerbsCommon.Close, "TcpConnection")]
[OutputType(typeof(TcpConnection))]
public sealed class CloseTcpConnectionCommand : NetCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection[] Connection { get; set; } = null!;

    /// <summary>Half-close: say "nothing more from me" (TCP FIN) after what is queued, and keep reading.</summary>
    [Parameter]
    public SwitchParameter Send { get; set; }

    /// <summary>Emit each connection after closing it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (TcpConnection connection in Connection)
        {
            if (Send)
            {
                connection.CloseSend();
                WriteVerbose($"Connection {connection} has finished sending; it can still receive.");
            }
            else
            {
                connection.Close();
                ConnectionRegistry.Remove(connection);
                WriteVerbose($"Closed connection {connection}.");
            }
            if (PassThru) WriteObject(connection);
        }
    }
}
