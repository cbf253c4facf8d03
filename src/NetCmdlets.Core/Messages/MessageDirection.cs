namespace NetCmdlets.Core.Messages;

/// <summary>Whether a message object records bytes that arrived or bytes that were sent; through a proxy, which way they went.</summary>
public enum MessageDirection
{
    Received,
    Sent,

    /// <summary>Through a proxy: from the client to the server it was forwarded to.</summary>
    ClientToServer,

    /// <summary>Through a proxy: from the server back to the client.</summary>
    ServerToClient,
}
