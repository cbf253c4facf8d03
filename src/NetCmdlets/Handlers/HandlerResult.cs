using System.Management.Automation;

namespace NetCmdlets.Handlers;

/// <summary>What a worker runspace's handler made of one message. Public only so worker scripts can create it.</summary>
public sealed class HandlerResult
{
    public HandlerResult(object message, object[]? output, ErrorRecord? failure)
    {
        Message = message;
        Output = output ?? new object[0];
        Failure = failure;
    }

    public object Message { get; }

    public object[] Output { get; }

    public ErrorRecord? Failure { get; }
}
