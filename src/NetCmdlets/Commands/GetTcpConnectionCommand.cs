using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Lists the open connections made by New-TcpConnection in this session.</summary>
[Cmdlet(VerbsCommon.Get, "TcpConnection")]
[OutputType(typeof(TcpConnection))]
public sealed class GetTcpConnectionCommand : NetCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ConnectionId")]
    public int[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        IReadOnlyList<TcpConnection> open = ConnectionRegistry.Open();
        if (Id is null)
        {
            foreach (TcpConnection connection in open) WriteObject(connection);
            return;
        }
        foreach (TcpConnection connection in open.Where(c => Id.Contains(c.Id))) WriteObject(connection);
        // As Get-Job does: an id that matches nothing is an error, so a script can tell.
        foreach (int missing in Id.Where(id => open.All(c => c.Id != id)))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"No open connection has the id {missing}. Get-TcpConnection lists the open ones."),
                "ConnectionNotFound", ErrorCategory.ObjectNotFound, missing));
        }
    }
}
