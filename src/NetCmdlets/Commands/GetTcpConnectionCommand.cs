using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Jobs;

namespace NetCmdlets.Commands;

/// <summary>
/// Lists open connections: those New-TcpConnection made in this session, or with -Server those of a
/// running server (a server job, its Listening record, or one of its connections, as in a handler).
/// </summary>
[Cmdlet(VerbsCommon.Get, "TcpConnection", DefaultParameterSetName = SessionSet)]
[OutputType(typeof(TcpConnection))]
public sealed class GetTcpConnectionCommand : NetCmdletBase
{
    private const string SessionSet = "Session";
    private const string ServerSet = "Server";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ConnectionId")]
    public int[]? Id { get; set; }

    /// <summary>The server whose connections to list: a server job (-AsJob), its Listening information record, or a connection it accepted ($_.Connection in a handler).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServerSet, ValueFromPipeline = true)]
    public object[] Server { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ServerSet)
        {
            foreach (object item in Server)
            {
                IReadOnlyList<TcpConnection>? connections = ConnectionsOf(item is PSObject wrapped ? wrapped.BaseObject : item);
                if (connections is null)
                {
                    WriteError(new ErrorRecord(new PSArgumentException($"'{item}' is not a server: give a server job, its Listening record, or a connection a server accepted."),
                        "NotAServer", ErrorCategory.InvalidArgument, item));
                    continue;
                }
                Write(connections);
            }
            return;
        }
        Write(ConnectionRegistry.Open());
    }

    private static IReadOnlyList<TcpConnection>? ConnectionsOf(object item) => item switch
    {
        NetServerJob job => job.Connections,
        ListenerStarted started => started.Connections,
        InformationRecord { MessageData: ListenerStarted started } => started.Connections,
        TcpConnection { Owner: { } owner } => owner.OpenConnections,
        _ => null,
    };

    private void Write(IReadOnlyList<TcpConnection> open)
    {
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
