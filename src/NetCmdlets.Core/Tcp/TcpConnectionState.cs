namespace NetCmdlets.Core.Tcp;

public enum TcpConnectionRole
{
    /// <summary>This side connected.</summary>
    Client,

    /// <summary>This side accepted (a server, or New-TcpConnection -Listen).</summary>
    Server,
}

public enum TcpConnectionState
{
    Open,

    /// <summary>This side has finished sending (a half-close); the peer may still send.</summary>
    SendClosed,

    /// <summary>The peer has finished sending; what it sent can still be read, and this side may still send.</summary>
    PeerClosed,

    Closed,
}
