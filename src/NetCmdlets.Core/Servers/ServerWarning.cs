namespace NetCmdlets.Core;

/// <summary>Something a server's consumer should show as a warning: a limit reached, a client refused.</summary>
internal sealed class ServerWarning
{
    public ServerWarning(string message) => Message = message;

    public string Message { get; }

    public override string ToString() => Message;
}
