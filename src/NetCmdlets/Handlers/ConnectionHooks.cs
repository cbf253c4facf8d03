using System;
using System.Collections.Generic;
using System.Management.Automation;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Handlers;

/// <summary>Why a connection ended, as -OnDisconnect sees it.</summary>
public enum TcpDisconnectReason
{
    /// <summary>The peer closed it cleanly (or this side did).</summary>
    Closed,
    Reset,
    TimedOut,
    FramingError,
    Error,
}

/// <summary>What -OnDisconnect gets as $_: the connection, why it ended, and the error if there was one.</summary>
public sealed class TcpDisconnect
{
    internal TcpDisconnect(TcpConnection connection, NetException? error)
    {
        Connection = connection;
        Error = error;
        Reason = error?.Kind switch
        {
            null => TcpDisconnectReason.Closed,
            NetErrorKind.ConnectionReset => TcpDisconnectReason.Reset,
            NetErrorKind.ReceiveTimeout or NetErrorKind.SendTimeout or NetErrorKind.IdleTimeout => TcpDisconnectReason.TimedOut,
            NetErrorKind.Framing => TcpDisconnectReason.FramingError,
            _ => TcpDisconnectReason.Error,
        };
    }

    public TcpConnection Connection { get; }

    public TcpDisconnectReason Reason { get; }

    public NetException? Error { get; }

    public override string ToString() => $"{Connection}: {Reason}";
}

/// <summary>
/// -OnConnect and -OnDisconnect of Start-TcpServer, run on the pipeline thread as the server's events
/// come: -OnConnect's output is sent to the new client first (a greeting, a banner), before any reply.
/// </summary>
internal sealed class ConnectionHooks : IDisposable
{
    private readonly HandlerPipeline? _onConnect;
    private readonly HandlerPipeline? _onDisconnect;
    private readonly PSCmdlet _cmdlet;

    public ConnectionHooks(ScriptBlock? onConnect, ScriptBlock? onDisconnect, object[] arguments, PSCmdlet cmdlet)
    {
        _cmdlet = cmdlet;
        if (onConnect is not null) _onConnect = new HandlerPipeline(onConnect, arguments, cmdlet);
        if (onDisconnect is not null) _onDisconnect = new HandlerPipeline(onDisconnect, arguments, cmdlet);
    }

    /// <summary>Runs -OnConnect, queues its greeting, then returns the opening's lease (see <see cref="TcpConnection.ReturnLease"/>).</summary>
    public void Opened(TcpConnection connection)
    {
        if (_onConnect is null)
        {
            connection.ReturnLease();
            return;
        }
        // The opening's lease is out until the greeting is queued: a -OnConnect that closes the connection
        // (a refusal banner) still gets its words out, and one that switches the framing does so before a byte is cut.
        try
        {
            IReadOnlyList<object>? output = Run(_onConnect, connection);
            if (output is { Count: > 0 }) _ = connection.SendAsync(ReplyEncoder.Encode(output, connection.Encoding, connection.SendFraming, connection.PeerName), System.Threading.CancellationToken.None);
        }
        catch (NetException e)
        {
            _cmdlet.WriteError(ErrorRecords.From(e));
        }
        finally
        {
            connection.ReturnLease();
        }
    }

    public void Closed(TcpConnection connection, NetException? error)
    {
        // Its output has nowhere to go: the connection is gone.
        if (_onDisconnect is not null) _ = Run(_onDisconnect, new TcpDisconnect(connection, error));
    }

    public void Dispose()
    {
        _onConnect?.Dispose();
        _onDisconnect?.Dispose();
    }

    private IReadOnlyList<object>? Run(HandlerPipeline pipeline, object input)
    {
        try
        {
            return pipeline.Invoke(input);
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException)
        {
            _cmdlet.WriteError(ErrorRecords.HandlerFailed(e, input));
            return null;
        }
        catch (Exception e) when (InlineHandlerRunner.IsFlowControl(e))
        {
            return null;
        }
    }
}
