using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core;

/// <summary>
/// Carries items from socket callbacks to the one thread that consumes them. Bounded, so a slow
/// consumer slows the producers (TCP reads wait) or makes them drop (UDP, counted by the caller).
/// Control items (a connection closed, an error) bypass the bound so they are never lost.
/// Not disposable on purpose: a late socket callback may still add to it after its consumer is gone.
/// </summary>
public sealed class BoundedQueue<T>
{
    private readonly ConcurrentQueue<(T Item, bool Counted)> _items = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly SemaphoreSlim _space;

    public BoundedQueue(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        _space = new SemaphoreSlim(capacity);
    }

    public int Capacity { get; }

    public int Count => _items.Count;

    /// <summary>Waits for room, then adds the item.</summary>
    public async Task EnqueueAsync(T item, CancellationToken cancellationToken)
    {
        await _space.WaitAsync(cancellationToken).ConfigureAwait(false);
        Add(item, counted: true);
    }

    /// <summary>Adds the item if there is room now.</summary>
    public bool TryEnqueue(T item)
    {
        if (!_space.Wait(0)) return false;
        Add(item, counted: true);
        return true;
    }

    /// <summary>Adds the item past the bound; for rare control items only.</summary>
    public void EnqueueControl(T item) => Add(item, counted: false);

    /// <summary>Takes the next item, waiting up to <paramref name="timeout"/> (Infinite: forever).</summary>
    /// <returns>False when the time ran out.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public bool TryDequeue(out T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_available.Wait(timeout, cancellationToken))
        {
            item = default!;
            return false;
        }
        item = Take();
        return true;
    }

    /// <summary>Takes the next item, waiting for as long as the token allows.</summary>
    public async Task<T> DequeueAsync(CancellationToken cancellationToken)
    {
        await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Take();
    }

    private void Add(T item, bool counted)
    {
        _items.Enqueue((item, counted));
        _available.Release();
    }

    private T Take()
    {
        // A successful wait on _available guarantees an item is there.
        _items.TryDequeue(out var entry);
        if (entry.Counted) _space.Release();
        return entry.Item;
    }
}
