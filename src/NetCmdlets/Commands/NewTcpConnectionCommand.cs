using System.Management.Automation;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Opens a TCP connection that lasts across commands, for Send-TcpMessage and Receive-TcpMessage.</summary>
[Cmdlet(VerbsCommon.New, "TcpConnection")]
[OutputType(typeof(TcpConnection))]
public sealed class NewTcpConnectionCommand : NetCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>Limit for connecting, in seconds; 0 means the system's own limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    protected override void EndProcessing()
    {
        var options = ConnectionOptions.ForLines(Encoding, MaxMessageLength);
        TcpConnection connection;
        try
        {
            connection = UntilStopped(() => TcpConnector.Connect(ComputerName, Port, options, ToTimeout(TimeoutSec), StopToken));
        }
        catch (NetException e)
        {
            WriteNetError(e);
            return;
        }
        // Read from the start, so replies that come before Receive-TcpMessage asks are kept in order.
        connection.StartReceiving();
        ConnectionRegistry.Add(connection);
        WriteObject(connection);
    }
}
