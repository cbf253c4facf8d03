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
/// The pipeline is <c>ForEach-Object -Process $handler</c>, begun in the caller's scope but not linked
/// to the cmdlet: its output is returned by each step and becomes the reply instead of going down the
/// user's pipeline; its errors, warnings and verbose output go to the streams of the script that runs
/// the cmdlet (a job's, in a job).
/// </remarks>
internal sealed class HandlerPipeline : IDisposable
{
    private static readonly ScriptBlock s_shape = ScriptBlock.Create("param($handler) ForEach-Object -Process $handler");

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
            _pipeline = s_shape.GetSteppablePipeline(CommandOrigin.Internal, new object[] { _handler });
            // Not linked to the cmdlet: its output comes back from Process as one array, so no command
            // after the handler runs for each item (a byte array output by the handler reaches it as
            // single bytes, one call each). Its errors go where the caller's script sends its own.
            _pipeline.Begin(true);
            _interrupter = HandlerInterrupter.TryCapture(_pipeline);
        }
        try
        {
            foreach (object item in _pipeline.Process(input)) _replies.Add(item);
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

/// <summary>The handler was stopped by <see cref="HandlerPipeline.Interrupt"/> (a time limit), not by the user.</summary>
internal sealed class HandlerInterruptedException : Exception
{
    public HandlerInterruptedException() : base("The handler was stopped by the time limit.") { }
}
