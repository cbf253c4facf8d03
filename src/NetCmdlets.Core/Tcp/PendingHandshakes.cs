using System.Collections.Generic;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// The TLS handshakes a server has under way, at most <see cref="Limit"/> at once. One more client while
/// all are taken ends the oldest one instead of waiting for it: a crowd that connects and never finishes
/// its handshake cannot keep a well-behaved client in the backlog, and each of them is gone within the
/// handshake time limit, or sooner when more come.
/// </summary>
internal sealed class PendingHandshakes
{
    private readonly LinkedList<Handshake> _oldestFirst = new();
    private readonly object _gate = new();

    public PendingHandshakes(int limit) => Limit = limit;

    public int Limit { get; }

    public int Count
    {
        get { lock (_gate) return _oldestFirst.Count; }
    }

    /// <summary>Counts a handshake with the client on <paramref name="transport"/>; when all places are taken, the oldest is ended.</summary>
    public Handshake Begin(SocketTransport transport)
    {
        var handshake = new Handshake(transport);
        Handshake? evicted = null;
        lock (_gate)
        {
            if (_oldestFirst.Count >= Limit)
            {
                evicted = _oldestFirst.First!.Value;
                _oldestFirst.RemoveFirst();
                evicted.Node = null;
                evicted.Evicted = true;
            }
            handshake.Node = _oldestFirst.AddLast(handshake);
        }
        // Its handshake fails on the closed socket, and reports why (see Handshake.Evicted).
        evicted?.Transport.Abort();
        return handshake;
    }

    /// <summary>The handshake ended, however it ended.</summary>
    public void End(Handshake handshake)
    {
        lock (_gate)
        {
            if (handshake.Node is null) return;
            _oldestFirst.Remove(handshake.Node);
            handshake.Node = null;
        }
    }

    internal sealed class Handshake
    {
        public Handshake(SocketTransport transport) => Transport = transport;

        public SocketTransport Transport { get; }

        /// <summary>Ended to make room for a newer client: a failure to report, not a client that went away.</summary>
        public volatile bool Evicted;

        internal LinkedListNode<Handshake>? Node;
    }
}
