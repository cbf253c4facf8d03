using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// What every load generator here shares: its loops on the thread pool, each counting into its own
/// slot; the errors they meet (counted, the first kept) until the run ends them; and the measured
/// window after a warm-up.
/// </summary>
internal sealed class LoadRun : IDisposable
{
    private readonly List<Task> _loops = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _errors;
    private string? _firstError;

    public CancellationToken Stopping => _stopping.Token;

    public int Errors => Volatile.Read(ref _errors);

    public string? FirstError => Volatile.Read(ref _firstError);

    /// <summary>Counts an error; the first one's message is the one reported.</summary>
    public void Error(string message)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, message, null);
    }

    /// <summary>Runs <paramref name="loop"/> on the thread pool; what it throws before the run ends is an error, after it the end.</summary>
    public void Start(Func<CancellationToken, Task> loop) => _loops.Add(Task.Run(async () =>
    {
        try
        {
            await loop(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Ended(e);
        }
    }));

    /// <summary>
    /// Runs <paramref name="loop"/> on a thread of its own, for a loop that blocks in socket calls: on the
    /// thread pool it would hold a pool thread and make the pool start more. Errors as with <see cref="Start"/>;
    /// a loop blocked in a receive ends when its socket is disposed.
    /// </summary>
    public void StartThread(Action<CancellationToken> loop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                loop(_stopping.Token);
            }
            catch (Exception e)
            {
                Ended(e);
            }
            finally
            {
                done.SetResult();
            }
        }, MaxStackBytes)
        { IsBackground = true, Name = "load loop" };
        thread.Start();
        _loops.Add(done.Task);
    }

    // A loop of a few frames: the default 8 MiB of address space per thread is not needed.
    private const int MaxStackBytes = 256 * 1024;

    private void Ended(Exception e)
    {
        // After the run has ended, a failure is how the loop was ended, not an error.
        if (!_stopping.IsCancellationRequested) Error(e.Message);
    }

    /// <summary>
    /// Waits out the warm-up, calls <paramref name="atStart"/>, waits the measured time, calls
    /// <paramref name="atEnd"/> and ends the loops; returns the measured seconds.
    /// </summary>
    public async Task<double> MeasureAsync(double warmup, double seconds, Action atStart, Action atEnd)
    {
        await Task.Delay(TimeSpan.FromSeconds(warmup)).ConfigureAwait(false);
        atStart();
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
        atEnd();
        double elapsed = clock.Elapsed.TotalSeconds;
        _stopping.Cancel();
        return elapsed;
    }

    /// <summary>Ends the loops and waits for them a little (a loop stuck in a send is left behind).</summary>
    public async Task StopAsync()
    {
        _stopping.Cancel();
        await Task.WhenAny(Task.WhenAll(_loops), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();
}
