using System.Management.Automation;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Emits the next messages that arrive on a connection made by New-TcpConnection.</summary>
[Cmdlet(VerbsCommunications.Receive, "TcpMessage")]
[OutputType(typeof(TcpMessage))]
public sealed class ReceiveTcpMessageCommand : NetCmdletBase
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection Connection { get; set; } = null!;

    /// <summary>How many messages to wait for.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Limit for each message, in seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    protected override void ProcessRecord()
    {
        for (int received = 0; received < Count; received++)
        {
            TcpMessage? message;
            try
            {
                message = UntilStopped(() => Connection.Receive(ToTimeout(TimeoutSec), StopToken));
            }
            catch (NetException e)
            {
                WriteNetError(e);
                return;
            }
            catch (System.InvalidOperationException e)
            {
                WriteError(ErrorRecords.ServerConnection(e, Connection));
                return;
            }
            if (message is null)
            {
                WriteNetError(new NetException(NetErrorKind.ConnectionClosed, Connection.RemoteEndPoint.ToString(),
                    $"{Connection.RemoteEndPoint} closed connection {Connection.Id} after {received} of {Count} message(s)."));
                return;
            }
            WriteObject(message);
        }
    }
}
