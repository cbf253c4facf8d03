using System.Management.Automation;
using NetCmdlets.Core.Proxy;
using NetCmdlets.Core.Proxy.Faults;
using NetCmdlets.Jobs;

namespace NetCmdlets.Commands;

/// <summary>Changes the faults of a proxy running as a job: for the connections open now too, from their next chunk on.</summary>
[Cmdlet(VerbsCommon.Set, "TcpProxy", DefaultParameterSetName = FaultSet)]
[OutputType(typeof(NetServerJob))]
public sealed class SetTcpProxyCommand : PSCmdlet
{
    private const string FaultSet = "Fault";
    private const string ClearSet = "Clear";

    /// <summary>The proxy: the job Start-TcpProxy -AsJob returned.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public NetServerJob[] Job { get; set; } = null!;

    /// <summary>The faults from now on, in order, in place of those it had.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FaultSet)]
    public TcpFault[] Fault { get; set; } = null!;

    /// <summary>No faults from now on.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter ClearFault { get; set; }

    /// <summary>Emit each job after changing it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (NetServerJob job in Job)
        {
            if (job.Server is not TcpProxy proxy)
            {
                WriteError(new ErrorRecord(new PSArgumentException($"Job {job.Id} ({job.Name}) is not a running Start-TcpProxy."), "NotAProxy", ErrorCategory.InvalidArgument, job));
                continue;
            }
            proxy.SetFaults(ClearFault ? System.Array.Empty<TcpFault>() : Fault);
            WriteVerbose(ClearFault ? $"Job {job.Id}: no faults." : $"Job {job.Id}: {string.Join(", ", (object[])Fault)}.");
            if (PassThru) WriteObject(job);
        }
    }
}
