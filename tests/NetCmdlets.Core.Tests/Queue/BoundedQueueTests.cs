using NetCmdlets.Core;
using Xunit;

namespace NetCmdlets.Core.Tests.Queue;

public class BoundedQueueTests
{
    [Fact]
    public void TryEnqueue_RefusesPastCapacity_AndTakingFreesRoom()
    {
        var queue = new BoundedQueue<int>(2);
        Assert.True(queue.TryEnqueue(1));
        Assert.True(queue.TryEnqueue(2));
        Assert.False(queue.TryEnqueue(3));
        Assert.True(queue.TryDequeue(out int first, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(1, first);
        Assert.True(queue.TryEnqueue(3));
    }

    [Fact]
    public void ControlItems_BypassTheBound_AndKeepOrder()
    {
        var queue = new BoundedQueue<string>(1);
        Assert.True(queue.TryEnqueue("message"));
        queue.EnqueueControl("closed");
        Assert.True(queue.TryDequeue(out string? a, TimeSpan.Zero, CancellationToken.None));
        Assert.True(queue.TryDequeue(out string? b, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(new[] { "message", "closed" }, new[] { a, b });
    }

    [Fact]
    public async Task EnqueueAsync_WaitsForRoom()
    {
        var queue = new BoundedQueue<int>(1);
        await queue.EnqueueAsync(1, CancellationToken.None);
        Task second = queue.EnqueueAsync(2, CancellationToken.None);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, await queue.DequeueAsync(CancellationToken.None));
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, await queue.DequeueAsync(CancellationToken.None));
    }

    [Fact]
    public void TryDequeue_TimesOut_AndObservesCancellation()
    {
        var queue = new BoundedQueue<int>(1);
        Assert.False(queue.TryDequeue(out _, TimeSpan.FromMilliseconds(10), CancellationToken.None));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => queue.TryDequeue(out _, Timeout.InfiniteTimeSpan, cancelled.Token));
    }
}
