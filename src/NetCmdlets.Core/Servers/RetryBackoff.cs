using System;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core;

/// <summary>
/// The wait before retrying after a failure that may last (out of descriptors, a broken socket): nothing
/// after the first failure, then 1, 2, 4 ... ms up to a second, so a lasting failure does not spin a core.
/// </summary>
internal sealed class RetryBackoff
{
    private const int MaxDelayMs = 1000;
    private int _failures;

    public int Failures => _failures;

    public void Succeeded() => _failures = 0;

    /// <summary>Counts a failure and waits the delay it earns; ends early, without throwing, when cancelled.</summary>
    public async Task FailedAsync(CancellationToken cancellationToken)
    {
        int failures = ++_failures;
        if (failures == 1) return;
        int delay = (int)Math.Min(MaxDelayMs, 1L << Math.Min(failures - 2, 20));
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
