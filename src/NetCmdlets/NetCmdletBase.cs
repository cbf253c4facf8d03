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

    /// <summary>
    /// Waits on the pipeline thread for a transfer running on the thread pool, showing a progress bar
    /// (Write-Progress) once it has taken longer than a moment; returns its result or rethrows its error.
    /// </summary>
    /// <param name="status">The progress so far, read on each update: bytes done, and the total if known.</param>
    internal T WaitWithProgress<T>(System.Threading.Tasks.Task<T> transfer, string activity, Func<(long Done, long? Total)> status)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ProgressRecord? shown = null;
        try
        {
            // Wakes twice a second only to draw the bar; the transfer itself never waits on this thread.
            while (!UntilStopped(() => transfer.Wait(500, StopToken)))
            {
                if (clock.Elapsed < TimeSpan.FromSeconds(1)) continue;
                (long done, long? total) = status();
                shown ??= new ProgressRecord(Math.Abs(activity.GetHashCode() % 100000), activity, "Starting");
                double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                shown.StatusDescription = total is > 0
                    ? $"{done:N0} of {total.Value:N0} bytes, {rate / 1e6:N1} MB/s"
                    : $"{done:N0} bytes, {rate / 1e6:N1} MB/s";
                shown.PercentComplete = total is > 0 ? (int)Math.Min(100, done * 100 / total.Value) : -1;
                if (total is > 0 && rate > 0) shown.SecondsRemaining = (int)((total.Value - done) / rate);
                WriteProgress(shown);
            }
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        finally
        {
            if (shown is not null)
            {
                shown.RecordType = ProgressRecordType.Completed;
                WriteProgress(shown);
            }
        }
        return transfer.GetAwaiter().GetResult();
    }

    /// <summary>Waits briefly for a transfer that a stop or an error left running, so nothing uses its file after it closes.</summary>
    internal static void Settle(System.Threading.Tasks.Task transfer)
    {
        try
        {
            transfer.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Its error was reported, or it was stopped.
        }
    }

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
