namespace NetCmdlets.Core.Messages;

/// <summary>Whether a message object records bytes that arrived or bytes that were sent.</summary>
public enum MessageDirection
{
    Received,
    Sent,
}
