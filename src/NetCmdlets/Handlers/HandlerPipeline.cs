using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace NetCmdlets.Handlers;

/// <summary>
/// Runs a user's -Handler once per message on the pipeline thread, through one steppable pipeline
/// kept open across messages: the script block is compiled and its scope built once, so variables
/// the handler sets persist from message to message, and each call costs microseconds.
/// </summary>
/// <remarks>
/// The pipeline is <c>ForEach-Object -Process $handler | ReplySink</c> begun against the calling cmdlet:
/// the handler's errors, warnings and verbose output flow to the cmdlet's own streams, while its
/// output is caught by the sink and becomes the reply instead of going down the user's pipeline.
/// </remarks>
internal sealed class HandlerPipeline : IDisposable
{
    private static readonly CmdletInfo s_sink = new("Add-NetCmdletsReply", typeof(ReplySinkCommand));
    private static readonly ScriptBlock s_shape = ScriptBlock.Create("param($handler, $sink, $replies) ForEach-Object -Process $handler | & $sink -Replies $replies");

    private readonly ScriptBlock _handler;
    private readonly PSCmdlet _owner;
    private readonly List<object> _replies = new();
    private SteppablePipeline? _pipeline;
    private volatile HandlerInterrupter? _interrupter;
    private volatile bool _interrupted;

    public HandlerPipeline(ScriptBlock handler, object[] arguments, PSCmdlet owner)
    {
        _handler = Bind(handler, arguments, owner);
        _owner = owner;
    }

    /// <summary>Invokes the handler with <c>$_</c> set to <paramref name="input"/> and returns what it output.</summary>
    /// <exception cref="RuntimeException">The handler threw; the next call starts a fresh pipeline.</exception>
    public IReadOnlyList<object> Invoke(object input)
    {
        _replies.Clear();
        _interrupted = false;
        if (_pipeline is null)
        {
            _pipeline = s_shape.GetSteppablePipeline(CommandOrigin.Internal, new object[] { _handler, s_sink, _replies });
            // Begin(cmdlet) would take "expects input" from the cmdlet, which has none; this form
            // expects input and still links the streams to the cmdlet that is running now.
            _pipeline.Begin(true, (EngineIntrinsics)_owner.GetVariableValue("ExecutionContext"));
            _interrupter = HandlerInterrupter.TryCapture(_pipeline);
        }
        try
        {
            _pipeline.Process(input);
        }
        catch (PipelineStoppedException) when (_interrupted)
        {
            // Stopped by Interrupt, not by the user: the caller ends the server normally.
            Dispose();
            throw new HandlerInterruptedException();
        }
        catch (Exception)
        {
            // A terminating error leaves the steppable pipeline unusable.
            Dispose();
            throw;
        }
        return _replies;
    }

    /// <summary>
    /// The handler as given, or, when it has arguments or <c>$using:</c> values, its text dot-sourced
    /// with them: a handler then reads the same in every mode (inline, parallel, job). The values are
    /// variables of the caller's scope, where the unbound block runs, so <c>$_</c> and the handler's own
    /// variables behave as in the plain case.
    /// </summary>
    private static ScriptBlock Bind(ScriptBlock handler, object[] arguments, PSCmdlet owner)
    {
        PortableHandler portable = PortableHandler.From(handler, arguments, owner);
        if (arguments.Length == 0 && portable.UsingValues.Count == 0) return handler;
        foreach (System.Collections.DictionaryEntry value in portable.UsingValues)
            owner.SessionState.PSVariable.Set((string)value.Key, value.Value);
        owner.SessionState.PSVariable.Set(ArgumentsVariable, arguments);
        return ScriptBlock.Create($". {{{portable.Text}\n}} @{ArgumentsVariable}");
    }

    private const string ArgumentsVariable = "__netcmdlets_arguments";

    /// <summary>From any thread: stops the handler's current statements (see <see cref="HandlerInterrupter"/>).</summary>
    /// <returns>False when nothing could be stopped (no handler running, or the runtime offers no way).</returns>
    public bool Interrupt()
    {
        HandlerInterrupter? interrupter = _interrupter;
        if (interrupter is null) return false;
        _interrupted = true;
        return interrupter.Interrupt();
    }

    public void Dispose()
    {
        SteppablePipeline? pipeline = _pipeline;
        _pipeline = null;
        _interrupter = null;
        pipeline?.Dispose();
    }
}

/// <summary>The end of <see cref="HandlerPipeline"/>: collects the handler's output. Not exported.</summary>
[Cmdlet(VerbsCommon.Add, "NetCmdletsReply")]
public sealed class ReplySinkCommand : Cmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public object? InputObject { get; set; }

    [Parameter(Mandatory = true)]
    [AllowEmptyCollection]
    public List<object> Replies { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (InputObject is not null) Replies.Add(InputObject);
    }
}

/// <summary>The handler was stopped by <see cref="HandlerPipeline.Interrupt"/> (a time limit), not by the user.</summary>
internal sealed class HandlerInterruptedException : Exception
{
    public HandlerInterruptedException() : base("The handler was stopped by the time limit.") { }
}
