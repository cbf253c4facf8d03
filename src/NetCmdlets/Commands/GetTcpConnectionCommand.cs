using System.Linq;
using System.Management.Automation;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Lists the open connections made by New-TcpConnection in this session.</summary>
[Cmdlet(VerbsCommon.Get, "TcpConnection")]
[OutputType(typeof(TcpConnection))]
public sealed class GetTcpConnectionCommand : NetCmdletBase
{
    [Parameter(Position = 0)]
    public int[]? Id { get; set; }

    protected override void EndProcessing()
    {
        foreach (TcpConnection connection in ConnectionRegistry.Open())
        {
            if (Id is null || Id.Contains(connection.Id)) WriteObject(connection);
        }
    }
}
