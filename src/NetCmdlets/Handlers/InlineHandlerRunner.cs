using System;
using System.Collections.Generic;
using System.Management.Automation;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Handlers;

/// <summary>-ThrottleLimit 1: the handler runs on the cmdlet's own pipeline thread, one message at a time.</summary>
internal sealed class InlineHandlerRunner : IHandlerRunner
{
    private readonly HandlerPipeline _pipeline;
    private readonly NetServer _server;
    private readonly PSCmdlet _cmdlet;

    public InlineHandlerRunner(ScriptBlock handler, object[] arguments, NetServer server, PSCmdlet cmdlet)
    {
        _pipeline = new HandlerPipeline(handler, arguments, cmdlet);
        _server = server;
        _cmdlet = cmdlet;
    }

    public void Dispatch(NetMessage message, object input)
    {
        // The message's lease is returned once its reply is queued: a handler that closes its own connection
        // (QUIT) still gets its reply out, since the close waits for the lease.
        TcpConnection? connection = message.SourceConnection;
        try
        {
            Handle(message, input);
        }
        finally
        {
            connection?.ReturnLease();
        }
    }

    private void Handle(NetMessage message, object input)
    {
        IReadOnlyList<object> output;
        try
        {
            output = _pipeline.Invoke(input);
        }
        catch (HandlerInterruptedException)
        {
            _cmdlet.WriteWarning($"The time limit stopped the handler while it answered a message from {message.RemoteEndPoint}; that message gets no reply.");
            return;
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException)
        {
            _cmdlet.WriteError(ErrorRecords.HandlerFailed(e, message));
            return;
        }
        catch (Exception e) when (IsFlowControl(e))
        {
            // continue, break or return-like flow out of the handler: this message gets no reply.
            return;
        }
        if (output.Count == 0) return;
        try
        {
            // Not awaited: a client that does not read must not stall the others. A failed send
            // ends that connection, and its Closed event reports why.
            _ = _server.ReplyAsync(message, ReplyEncoder.Encode(output, message));
        }
        catch (NetException e)
        {
            _cmdlet.WriteError(ErrorRecords.From(e));
        }
    }

    public void Drain(System.Threading.CancellationToken cancellationToken)
    {
    }

    public void Interrupt() => _pipeline.Interrupt();

    internal static bool IsFlowControl(Exception e) =>
        e.GetType().Name is "ContinueException" or "BreakException" or "ExitException";

    public void Dispose() => _pipeline.Dispose();
}
