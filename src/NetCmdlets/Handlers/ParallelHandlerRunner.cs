using System;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using System.Threading;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Tcp;

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
    private readonly InFlightCounter _inFlight = new();
    private readonly CancellationToken _stopping;
    private readonly ConditionalWeakTable<TcpConnection, StrongBox<int>> _assigned = new();
    private int _nextWorker;

    public ParallelHandlerRunner(int throttleLimit, string modulePath, PortableHandler handler, NetServer server, CancellationToken stopping)
    {
        _stopping = stopping;
        InitialSessionState sessionState = InitialSessionState.CreateDefault2();
        sessionState.ImportPSModule(new[] { modulePath });
        _workers = new HandlerWorker[throttleLimit];
        try
        {
            for (int i = 0; i < throttleLimit; i++)
            {
                stopping.ThrowIfCancellationRequested();
                _workers[i] = new HandlerWorker(sessionState, handler, server, OnHandled);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispatch(NetMessage message, object input)
    {
        _slots.Wait(_stopping);
        _inFlight.Started();
        // The message's lease stays out until its reply is queued (OnHandled): the server closes a connection
        // once its peer is done, and a reply still being made here must get out first.
        WorkerFor(message).Add(message, input);
    }

    /// <summary>
    /// TCP connections are dealt to workers in turn as they first speak, so load spreads evenly; the
    /// table forgets a connection when it is collected. UDP senders are spread by a hash of their endpoint.
    /// </summary>
    private HandlerWorker WorkerFor(NetMessage message)
    {
        if (message is not TcpMessage tcp)
            return _workers[(message.RemoteEndPoint.GetHashCode() & int.MaxValue) % _workers.Length];
        StrongBox<int> slot = _assigned.GetValue(tcp.Connection, _ => new StrongBox<int>(_nextWorker++ % _workers.Length));
        return _workers[slot.Value];
    }

    public void Drain(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping, cancellationToken);
        _inFlight.WaitIdle(linked.Token);
    }

    // Workers run in runspaces of their own: disposing them (Dispose, right after) stops what they run.
    public void Interrupt()
    {
    }

    public void Dispose()
    {
        foreach (HandlerWorker worker in _workers) worker?.Dispose();
    }

    private void OnHandled(NetMessage message)
    {
        message.SourceConnection?.ReturnLease();
        _inFlight.Finished();
        _slots.Release();
    }
}
