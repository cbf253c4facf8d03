using Xunit;

namespace NetCmdlets.Core.Tests.Queue;

public class InFlightCounterTests
{
    // Defect: a worker's decrement to zero raced a new dispatch's increment and Reset, so Drain
    // returned with a message in flight and its reply was lost under -Count.
    [Fact]
    public async Task AStart_DuringTheLastFinish_LeavesTheCounter_NotIdle()
    {
        using var counter = new InFlightCounter();
        counter.Started();
        Task? racing = null;
        counter.BetweenCountAndSignal = () =>
        {
            // A dispatch on another thread at the worst moment; it may only get in once the finish is whole.
            racing = Task.Run(counter.Started);
#pragma warning disable xUnit1031 // Blocking here is the test: the racing start must wait for the finish's lock.
            racing.Wait(200);
#pragma warning restore xUnit1031
        };
        counter.Finished();
        counter.BetweenCountAndSignal = null;
        await racing!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, counter.Count);
        Assert.False(counter.IsIdle, "one message is in flight, so a drain must wait");
        counter.Finished();
        Assert.True(counter.IsIdle);
    }

    [Fact]
    public async Task WaitIdle_ReturnsOnceEverythingFinished()
    {
        using var counter = new InFlightCounter();
        for (int i = 0; i < 100; i++) counter.Started();
        Task finishing = Task.Run(() => { for (int i = 0; i < 100; i++) counter.Finished(); });
        counter.WaitIdle(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal(0, counter.Count);
        await finishing;
    }
}
