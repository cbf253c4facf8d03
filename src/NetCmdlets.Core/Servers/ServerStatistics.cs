using System.Threading;

namespace NetCmdlets.Core.Tcp;

/// <summary>Live figures of a server: its connections, its traffic, and everything it refused or lost.</summary>
public sealed class ServerStatistics : TrafficCounters
{
    private long _connectionsOpen;
    private long _connectionsTotal;
    private long _errors;
    private long _dropped;
    private long _noticesDropped;
    private long _tlsFailures;
    private long _refused;
    private long _denied;
    private long _idleClosed;
    private long _bufferLimitClosed;

    /// <summary>The server-wide budget of unfinished messages and queued replies, when the server has one.</summary>
    internal ServerBufferBudget? Buffers { get; set; }

    /// <summary>Bytes held now in unfinished messages and replies not yet written, over all connections.</summary>
    public long BufferedBytes => Buffers?.Used ?? 0;

    /// <summary>The most <see cref="BufferedBytes"/> has been since the server started.</summary>
    public long PeakBufferedBytes => Buffers?.Peak ?? 0;

    /// <summary>Connections closed because the server held more than -MaxBufferedBytes and they held the most.</summary>
    public long BufferLimitClosed => Interlocked.Read(ref _bufferLimitClosed);

    internal void AddBufferLimitClosed() => Interlocked.Increment(ref _bufferLimitClosed);

    public long ConnectionsOpen => Interlocked.Read(ref _connectionsOpen);

    public long ConnectionsTotal => Interlocked.Read(ref _connectionsTotal);

    /// <summary>Connections ended by an error (reset, framing) and failed sends.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Datagrams that arrived while the queue was full (UDP only; TCP pauses instead).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records of parallel handlers (errors, warnings) dropped because too many were waiting to be written.</summary>
    public long NoticesDropped => Interlocked.Read(ref _noticesDropped);

    /// <summary>Clients whose TLS handshake failed (plain text, no certificate, too slow); they never became connections.</summary>
    public long TlsFailures => Interlocked.Read(ref _tlsFailures);

    internal void AddTlsFailure() => Interlocked.Increment(ref _tlsFailures);

    /// <summary>Clients refused because the server had its maximum of connections open.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Clients refused by the allow and deny lists, before any byte was read.</summary>
    public long Denied => Interlocked.Read(ref _denied);

    /// <summary>Connections closed because nothing moved on them for the idle limit.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);

    internal void AddRefused() => Interlocked.Increment(ref _refused);

    internal void AddDenied() => Interlocked.Increment(ref _denied);

    internal void AddIdleClosed() => Interlocked.Increment(ref _idleClosed);

    internal void AddNoticeDropped() => Interlocked.Increment(ref _noticesDropped);

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsOpen);
        Interlocked.Increment(ref _connectionsTotal);
    }

    internal void ConnectionClosed() => Interlocked.Decrement(ref _connectionsOpen);

    internal void AddError() => Interlocked.Increment(ref _errors);

    internal void AddDropped() => Interlocked.Increment(ref _dropped);
}
