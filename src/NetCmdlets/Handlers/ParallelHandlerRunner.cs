using System;
using System.Management.Automation.Runspaces;
using System.Threading;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;

namespace NetCmdlets.Handlers;

/// <summary>
/// -ThrottleLimit N: N runspaces run the handler in parallel. Each connection (each UDP sender) is
/// bound to one runspace, so its messages are still handled, and answered, in order.
/// </summary>
internal sealed class ParallelHandlerRunner : IHandlerRunner
{
    /// <summary>Messages handed to workers and not yet handled; past this the pipeline thread waits, which pauses TCP reads.</summary>
    private const int MaxInFlight = 1024;

    private readonly HandlerWorker[] _workers;
    private readonly SemaphoreSlim _slots = new(MaxInFlight);
    private readonly ManualResetEventSlim _idle = new(true);
    private readonly CancellationToken _stopping;
    private int _inFlight;

    public ParallelHandlerRunner(int throttleLimit, string modulePath, PortableHandler handler, NetServer server, CancellationToken stopping)
    {
        _stopping = stopping;
        InitialSessionState sessionState = InitialSessionState.CreateDefault2();
        sessionState.ImportPSModule(new[] { modulePath });
        _workers = new HandlerWorker[throttleLimit];
        for (int i = 0; i < throttleLimit; i++) _workers[i] = new HandlerWorker(sessionState, handler, server, OnHandled);
    }

    public void Dispatch(NetMessage message)
    {
        int key = message is TcpMessage tcp ? tcp.ConnectionId : message.RemoteEndPoint.GetHashCode();
        _slots.Wait(_stopping);
        if (Interlocked.Increment(ref _inFlight) == 1) _idle.Reset();
        _workers[(key & int.MaxValue) % _workers.Length].Add(message);
    }

    public void Drain() => _idle.Wait(_stopping);

    public void Dispose()
    {
        foreach (HandlerWorker worker in _workers) worker?.Dispose();
    }

    private void OnHandled()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0) _idle.Set();
        _slots.Release();
    }
}
