using System.Text;
using NetCmdlets.Core.Framing;

namespace NetCmdlets.Core.Tcp;

/// <summary>How the connections of a server or client frame and decode their messages.</summary>
public sealed class ConnectionOptions
{
    /// <summary>Messages as lines of text in <paramref name="encoding"/>, at most <paramref name="maxMessageLength"/> bytes each.</summary>
    public static ConnectionOptions ForLines(Encoding encoding, int maxMessageLength) =>
        new() { Encoding = encoding, Framing = MessageFraming.Lines(encoding, maxMessageLength) };

    /// <summary>Gives each connection its own framer.</summary>
    public MessageFraming Framing { get; set; } = MessageFraming.Lines();

    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    /// <summary>
    /// A server's consumer returns the lease of every message, and of every opening, itself, once their
    /// replies are queued (<see cref="TcpConnection.ReturnLease"/>): until then a close waits for them. When
    /// unset, the server returns each lease as the message (or the opening) is taken.
    /// </summary>
    public bool ConsumerReturnsLeases { get; set; }

    /// <summary>
    /// A server's connections cut each message only once the consumer holds no lease on them (see
    /// <see cref="TcpConnection.ReturnLease"/>), so a handler may switch its connection's framing from the
    /// next byte on. Meant with <see cref="ConsumerReturnsLeases"/>.
    /// </summary>
    public bool FrameInTurn { get; set; }

    /// <summary>
    /// A server whose connections talk to each other (ncat --broker): with <see cref="BrokerRelaysMessages"/>
    /// each message goes to all the other connections as it is taken; a reply (a handler's output) goes to
    /// all of them, the sender included. A member that takes none of what is queued for it past its send
    /// budget is dropped with a warning instead of slowing the others.
    /// </summary>
    public bool Broker { get; set; }

    /// <summary>As <see cref="Broker"/> (ncat --chat): members are named &lt;userN&gt;, what each sends carries its name, and joins and leaves are announced.</summary>
    public bool Chat { get; set; }

    /// <summary>With <see cref="Broker"/>: the server forwards each message itself as it is taken (no handler decides).</summary>
    public bool BrokerRelaysMessages { get; set; } = true;

    /// <summary>A client connects through this proxy (SOCKS5 or HTTP CONNECT); null connects directly.</summary>
    public Outbound.OutboundProxy? Proxy { get; set; }

    /// <summary>A server closes a connection on which nothing moved (no byte either way, no message being handled) this long; null for no limit.</summary>
    public System.TimeSpan? IdleTimeout { get; set; }

    /// <summary>A server refuses clients while this many connections are open (or shaking hands); 0 for no limit.</summary>
    public int MaxConnections { get; set; }

    /// <summary>Which client addresses a server lets in; null lets in all.</summary>
    public Net.AddressFilter? AddressFilter { get; set; }

    /// <summary>TLS for a connection this side opens; null for plain TCP.</summary>
    public Tls.TlsClientOptions? Tls { get; set; }

    /// <summary>TLS for the connections a server accepts; null for plain TCP.</summary>
    public Tls.TlsServerOptions? ServerTls { get; set; }

    /// <summary>Default of <see cref="MaxBufferedBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxBufferedBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Bytes a server holds in all, in unfinished messages and replies not yet written, past which it closes
    /// the connections holding the most (see <see cref="ServerBufferBudget"/>); 0 for no limit.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = DefaultMaxBufferedBytes;

    /// <summary>Received messages held for the consumer before reading pauses (TCP) or drops (UDP).</summary>
    public int QueueCapacity { get; set; } = 1024;
}
