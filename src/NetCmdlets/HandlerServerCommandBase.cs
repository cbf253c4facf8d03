using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using NetCmdlets.Core;
using NetCmdlets.Core.Net;
using NetCmdlets.Handlers;
using NetCmdlets.Jobs;

namespace NetCmdlets;

/// <summary>A listener that can answer with a -Handler, in parallel, and run as a job.</summary>
public abstract class HandlerServerCommandBase : ListenerCommandBase
{
    /// <summary>How long -AsJob waits for the server in the job to listen before giving up.</summary>
    private static readonly TimeSpan JobStartLimit = TimeSpan.FromSeconds(60);

    [Parameter(Position = 1)]
    public ScriptBlock? Handler { get; set; }

    /// <summary>Passed to the handler as its arguments ($args, or its param block).</summary>
    [Parameter]
    public object[] ArgumentList { get; set; } = new object[0];

    /// <summary>Runspaces that run the handler in parallel; messages of one connection stay in order.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 1;

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>With -AsJob: messages the job keeps for Receive-Job; past this, new ones are counted and dropped (0: keep none).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int JobOutputLimit { get; set; } = NetServerJob.DefaultOutputLimit;

    /// <summary>The job's name, with -AsJob.</summary>
    [Parameter]
    public string? JobName { get; set; }

    protected override void EndProcessing()
    {
        if (AsJob) StartJob();
        else base.EndProcessing();
    }

    private protected override IHandlerRunner? CreateHandlerRunner(NetServer server)
    {
        if (Handler is null) return null;
        if (ThrottleLimit == 1) return new InlineHandlerRunner(Handler, ArgumentList, server, this);
        return new ParallelHandlerRunner(ThrottleLimit, ModuleManifestPath, PortableHandler.From(Handler, ArgumentList, this), server, StopToken);
    }

    /// <summary>A parameter's value as the job gets it: a relative path, say, made absolute here, where the caller's location is.</summary>
    private protected virtual object? ForJob(string name, object? value) => value;

    private string ModuleManifestPath => Path.Combine(MyInvocation.MyCommand.Module.ModuleBase, "NetCmdlets.psd1");

    private void StartJob()
    {
        var parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
        var scripts = new Hashtable(StringComparer.OrdinalIgnoreCase);
        var usingValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in (IDictionary)MyInvocation.BoundParameters)
        {
            string name = (string)entry.Key;
            if (name is nameof(AsJob) or nameof(JobName) or nameof(JobOutputLimit) or nameof(Handler) or nameof(ArgumentList)) continue;
            // Other script blocks (-OnConnect, -OnDisconnect) travel as text, with their $using: values, as the handler does.
            if (entry.Value is ScriptBlock block)
            {
                PortableHandler portable = PortableHandler.From(block, ArgumentList, this);
                scripts[name] = portable.Text;
                foreach (DictionaryEntry value in portable.UsingValues) usingValues[value.Key] = value.Value;
                continue;
            }
            parameters[name] = ForJob(name, entry.Value);
        }
        PortableHandler? handler = Handler is null ? null : PortableHandler.From(Handler, ArgumentList, this);
        if (handler is not null)
        {
            foreach (DictionaryEntry value in handler.UsingValues) usingValues[value.Key] = value.Value;
        }
        string command = MyInvocation.MyCommand.Name + " " + string.Join(" ", parameters.Keys.Cast<string>().Select(k => $"-{k} {parameters[k]}"))
            + (Handler is null ? "" : " -Handler {" + Handler + "}");
        var job = new NetServerJob(command.Trim(), JobName, JobOutputLimit);
        bool listening;
        try
        {
            job.Begin(ModuleManifestPath, MyInvocation.MyCommand.Name, parameters, handler, scripts, usingValues, ArgumentList);
            listening = UntilStopped(() => job.WaitUntilListening(JobStartLimit, StopToken));
        }
        catch
        {
            // Not in the job table yet: nobody else could stop it and free its port.
            job.Dispose();
            throw;
        }
        if (!listening)
        {
            // The server could not start (the port is taken, say): report its error here, as the foreground cmdlet would.
            ErrorRecord? failure = job.Error.Count > 0 ? job.Error[0] : null;
            job.Dispose();
            ThrowTerminatingError(failure ?? new ErrorRecord(new TimeoutException("The server job did not start listening."), "JobStartFailed", ErrorCategory.OperationTimeout, null));
        }
        NetServerJobSourceAdapter.Register(job, this);
        WriteObject(job);
    }
}
