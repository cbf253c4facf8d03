using System;
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace NetCmdlets.Handlers;

/// <summary>
/// Stops what a handler running on the pipeline thread is doing (a Start-Sleep, a Wait-Event, a
/// cmdlet that waits) without stopping the pipeline the server runs in, so -TimeoutSec can end a
/// server as promptly as Ctrl+C does and the script then goes on. Ctrl+C stops every pipeline
/// processor on the runspace's stopper stack; this stops only those pushed after the handler's own
/// steppable pipeline, which are the handler's statements.
/// </summary>
/// <remarks>
/// PowerShell has no public call for this, so it reaches the stopper through non-public members that
/// Windows PowerShell 5.1 and PowerShell 7 share. If they are missing, <see cref="TryCapture"/> returns
/// null and a time limit ends the server only once the running handler returns, as before.
/// </remarks>
internal sealed class HandlerInterrupter
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private readonly object _syncRoot;
    private readonly IEnumerable _stack;
    private readonly object _handlerProcessor;
    private readonly MethodInfo _stop;

    private HandlerInterrupter(object syncRoot, IEnumerable stack, object handlerProcessor, MethodInfo stop)
    {
        _syncRoot = syncRoot;
        _stack = stack;
        _handlerProcessor = handlerProcessor;
        _stop = stop;
    }

    /// <summary>Call on the pipeline thread, after the handler's steppable pipeline has begun.</summary>
    public static HandlerInterrupter? TryCapture(SteppablePipeline handler)
    {
        try
        {
            Runspace runspace = Runspace.DefaultRunspace;
            object? pipeline = runspace.GetType().GetMethod("GetCurrentlyRunningPipeline", Instance, null, Type.EmptyTypes, null)?.Invoke(runspace, null);
            object? stopper = pipeline?.GetType().GetProperty("Stopper", Instance)?.GetValue(pipeline);
            object? syncRoot = stopper?.GetType().GetField("_syncRoot", Instance)?.GetValue(stopper);
            var stack = stopper?.GetType().GetField("_stack", Instance)?.GetValue(stopper) as IEnumerable;
            object? processor = typeof(SteppablePipeline).GetField("_pipeline", Instance)?.GetValue(handler);
            MethodInfo? stop = processor?.GetType().GetMethod("Stop", Instance, null, Type.EmptyTypes, null);
            if (syncRoot is null || stack is null || processor is null || stop is null) return null;
            return new HandlerInterrupter(syncRoot, stack, processor, stop);
        }
        catch (Exception e) when (e is TargetInvocationException or MemberAccessException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>From any thread: stops the statements the handler is running now. Returns false if none were found.</summary>
    public bool Interrupt()
    {
        var running = new System.Collections.Generic.List<object>();
        bool handlerRunning = false;
        lock (_syncRoot)
        {
            // The stack enumerates from the top: the handler's innermost statement first, down to the handler itself.
            foreach (object processor in _stack)
            {
                if (ReferenceEquals(processor, _handlerProcessor))
                {
                    handlerRunning = true;
                    break;
                }
                running.Add(processor);
            }
        }
        // The handler's pipeline is on the stack only while it runs; otherwise everything found belongs
        // to the pipeline the server runs in, which must go on.
        if (!handlerRunning) return false;
        foreach (object processor in running)
        {
            try
            {
                _stop.Invoke(processor, null);
            }
            catch (TargetInvocationException)
            {
                // A statement that ended meanwhile: nothing left to stop.
            }
        }
        return running.Count > 0;
    }
}
