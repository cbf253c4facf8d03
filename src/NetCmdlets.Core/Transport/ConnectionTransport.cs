using System;
using System.IO;
using System.Net;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Transport;

/// <summary>
/// The byte stream under one connection. The connection's receive and send loops only read and write
/// <see cref="Stream"/>, so a TLS stream laid over a socket is another transport, not another loop.
/// </summary>
public abstract class ConnectionTransport : IDisposable
{
    /// <summary>What the connection reads from and writes to.</summary>
    public abstract Stream Stream { get; }

    /// <summary>An <see cref="IPEndPoint"/>, or a <see cref="Net.UnixEndPoint"/> for a UNIX socket.</summary>
    public abstract EndPoint LocalEndPoint { get; }

    /// <summary>An <see cref="IPEndPoint"/>, or a <see cref="Net.UnixEndPoint"/> for a UNIX socket.</summary>
    public abstract EndPoint RemoteEndPoint { get; }

    /// <summary>Who is at the other end of a UNIX socket (SO_PEERCRED); null over IP, or where the platform does not say.</summary>
    public virtual Net.UnixPeerCredential? PeerCredential => null;

    /// <summary>The remote endpoint as text, for messages and error targets.</summary>
    internal string PeerName => RemoteEndPoint.ToString() ?? string.Empty;

    /// <summary>
    /// True when <see cref="WaitForDataAsync"/> waits without holding a buffer (a zero-byte read), so an
    /// idle connection costs no receive buffer; false when it completes at once.
    /// </summary>
    public abstract bool CanWaitForData { get; }

    /// <summary>Completes when bytes (or the end of the stream) can be read; its result means nothing.</summary>
#if NET8_0_OR_GREATER
    // A ValueTask: a pending wait on an idle connection allocates nothing.
    public abstract ValueTask<int> WaitForDataAsync();
#else
    public abstract Task<int> WaitForDataAsync();
#endif

    /// <summary>Tells the peer that nothing more will be sent (a TCP FIN); reading goes on.</summary>
    public abstract void ShutdownSend();

    /// <summary>Ends the connection at once; the peer sees a reset if anything was left unread.</summary>
    public abstract void Abort();

    /// <summary>Makes the next <see cref="Abort"/> a reset (TCP RST) even when nothing is left unread: a relay passes a peer's reset on as one.</summary>
    public virtual void ResetOnAbort()
    {
    }

    /// <summary>Ends the connection gracefully: what was written is delivered, then the peer sees the end.</summary>
    public abstract void Close();

    public void Dispose() => Close();
}
