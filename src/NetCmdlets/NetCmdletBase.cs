using System;
using System.Management.Automation;
using System.Threading;
using NetCmdlets.Core.Net;

namespace NetCmdlets;

/// <summary>
/// What every cmdlet of the module shares: a token cancelled by Ctrl+C or a stopped pipeline,
/// timeouts in seconds, and network failures turned into error records.
/// </summary>
public abstract class NetCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the pipeline stops; every wait of the cmdlet observes it.</summary>
    internal CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Seconds as users give them; 0 or less means no limit.</summary>
    protected static TimeSpan ToTimeout(double seconds) =>
        seconds > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan;

    protected void WriteNetError(NetException error) => WriteError(ErrorRecords.From(error));

    protected void ThrowNetError(NetException error) => ThrowTerminatingError(ErrorRecords.From(error));

    /// <summary>Runs a blocking wait; a cancellation caused by a stop becomes the stop PowerShell expects.</summary>
    internal T UntilStopped<T>(Func<T> wait)
    {
        try
        {
            return wait();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    internal void UntilStopped(Action wait) => UntilStopped(() =>
    {
        wait();
        return true;
    });

    /// <summary>Releases sockets however the cmdlet ended: completion, error, stop or a downstream Select-Object -First.</summary>
    protected virtual void ReleaseResources()
    {
    }

    public void Dispose()
    {
        _stopping.Cancel();
        ReleaseResources();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
