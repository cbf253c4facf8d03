using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Handlers;

namespace NetCmdlets;

/// <summary>
/// The pipeline-thread side of a server: takes its events in order, writes each message to the
/// pipeline, hands it to the handler, and reports what the server and handler workers posted.
/// </summary>
internal sealed class ServerPump
{
    private readonly NetCmdletBase _cmdlet;
    private readonly NetServer _server;
    private readonly IHandlerRunner? _handler;
    private volatile bool _dispatching;
    private volatile bool _ended;

    private readonly ConnectionHooks? _hooks;

    public ServerPump(NetCmdletBase cmdlet, NetServer server, IHandlerRunner? handler, ConnectionHooks? hooks = null)
    {
        _cmdlet = cmdlet;
        _server = server;
        _handler = handler;
        _hooks = hooks;
    }

    /// <param name="count">Stop after this many messages; 0 for no limit.</param>
    /// <param name="limit">Stop after this long; infinite for no limit.</param>
    public void Run(int count, TimeSpan limit)
    {
        // The time limit ends the server as promptly as Ctrl+C: it ends the waits below and stops a
        // handler that is running (which Ctrl+C would stop too), but, unlike Ctrl+C, the command then
        // ends normally and the script goes on.
        using var timeUp = new CancellationTokenSource();
        using var waits = CancellationTokenSource.CreateLinkedTokenSource(_cmdlet.StopToken, timeUp.Token);
        using CancellationTokenRegistration interrupt = timeUp.Token.Register(() => _ = InterruptWhileDispatchingAsync());
        if (limit != Timeout.InfiniteTimeSpan) timeUp.CancelAfter(limit);
        int received = 0;
        try
        {
            while ((count == 0 || received < count) && !timeUp.IsCancellationRequested)
            {
                ServerEvent next = null!;
                if (!_cmdlet.UntilStopped(() => _server.TryTakeEvent(out next, Timeout.InfiniteTimeSpan, waits.Token))) break;
                if (next.Kind == ServerEventKind.Message)
                {
                    NetMessage message = next.Message!;
                    if (!TryPresent(message, out object? output)) continue;
                    // Written before the handler runs, so a downstream Select-Object -First sees it even if the handler fails.
                    // (A JSON line holding null, or nothing, carries no value: nothing to write or handle.)
                    if (output is not null)
                    {
                        _cmdlet.WriteObject(output);
                        received++;
                    }
                    // The time may have run out while the message went down the pipeline.
                    if (_handler is not null && output is not null && !timeUp.IsCancellationRequested) Dispatch(message, output);
                    else message.SourceConnection?.ReturnLease();
                }
                else
                {
                    Report(next);
                }
            }
            // Replies to the last counted messages go out before the server closes.
            if (!timeUp.IsCancellationRequested) _cmdlet.UntilStopped(() => _handler?.Drain(waits.Token));
        }
        catch (OperationCanceledException) when (timeUp.IsCancellationRequested && !_cmdlet.StopToken.IsCancellationRequested)
        {
            // The time limit: a normal end.
        }
        catch (PipelineStoppedException)
        {
            // Ctrl+C: the pipeline takes no more records, but the totals the help promises are still told.
            WarnOnHost();
            throw;
        }
        finally
        {
            _ended = true;
        }
        // What workers and connections reported meanwhile; messages that came after the end are not taken.
        for (int left = _server.PendingEvents; left > 0 && _server.TryTakeEvent(out ServerEvent late, TimeSpan.Zero, _cmdlet.StopToken); left--)
        {
            if (late.Kind != ServerEventKind.Message) Report(late);
        }
        ReportDropped();
    }

    /// <summary>
    /// The object to write for a message: the message, or the value of a JSON line. A line that is not
    /// JSON ends its connection instead (its Closed event reports the error), and so do the lines after it.
    /// </summary>
    private static bool TryPresent(NetMessage message, out object? output)
    {
        output = null;
        var tcp = message as TcpMessage;
        if (tcp?.Connection.FramingFailed == true)
        {
            tcp.Connection.ReturnLease();
            return false;
        }
        if (tcp is null)
        {
            output = message;
            return true;
        }
        try
        {
            output = JsonValues.PresentOrFail(tcp);
            return true;
        }
        catch (NetException)
        {
            // The connection's end carries the error (PresentOrFail ended it).
            tcp.Connection.ReturnLease();
            return false;
        }
    }

    private void Dispatch(NetMessage message, object input)
    {
        _dispatching = true;
        try
        {
            _cmdlet.UntilStopped(() => _handler!.Dispatch(message, input));
        }
        finally
        {
            _dispatching = false;
        }
    }

    /// <summary>
    /// Once the time is up: stops the running handler, again every 50 ms while it still runs (it may have
    /// been between statements, with nothing to stop, the first time).
    /// </summary>
    private async Task InterruptWhileDispatchingAsync()
    {
        while (_dispatching && !_ended)
        {
            _handler?.Interrupt();
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private void Report(ServerEvent serverEvent)
    {
        switch (serverEvent.Kind)
        {
            case ServerEventKind.Opened:
                _cmdlet.WriteVerbose($"Connection {serverEvent.Connection} opened.");
                // -OnConnect, if any, has its say before the connection may cut its first message.
                if (_hooks is not null) _hooks.Opened(serverEvent.Connection!);
                else serverEvent.Connection!.ReturnLease();
                break;
            case ServerEventKind.Closed:
                // This side may have ended it by a rule (a line that is not JSON) after its loop had ended cleanly.
                NetException? error = serverEvent.Error ?? serverEvent.Connection!.EndedWith;
                ReportClosed(serverEvent.Connection!, error);
                _hooks?.Closed(serverEvent.Connection!, error);
                break;
            case ServerEventKind.Notice:
                WriteNotice(serverEvent.Notice);
                break;
        }
    }

    private void ReportClosed(TcpConnection connection, NetException? error)
    {
        if (error is null || error.Kind == NetErrorKind.ConnectionReset)
        {
            // A reset is how many clients hang up; it loses nothing the server had taken.
            _cmdlet.WriteVerbose($"Connection {connection} closed{(error is null ? "" : " by a reset")}.");
            return;
        }
        _cmdlet.WriteError(ErrorRecords.From(error));
    }

    private void WriteNotice(object? notice)
    {
        switch (notice)
        {
            case ErrorRecord error:
                _cmdlet.WriteError(error);
                break;
            case NetException failure:
                _cmdlet.WriteError(ErrorRecords.From(failure));
                break;
            case Core.Proxy.TcpProxyConnection proxied:
                // A proxy's connections opening and closing are output, beside its traffic.
                _cmdlet.WriteObject(proxied);
                break;
            case ServerWarning serverWarning:
                _cmdlet.WriteWarning(serverWarning.Message);
                break;
            case WarningRecord warning:
                _cmdlet.WriteWarning(warning.Message);
                break;
            case VerboseRecord verbose:
                _cmdlet.WriteVerbose(verbose.Message);
                break;
            case DebugRecord debug:
                _cmdlet.WriteDebug(debug.Message);
                break;
            case InformationRecord information:
                _cmdlet.WriteInformation(information);
                break;
        }
    }

    private void ReportDropped()
    {
        foreach (string warning in Totals()) _cmdlet.WriteWarning(warning);
    }

    /// <summary>After a stop, the totals go straight to the host (the console), since the pipeline refuses records.</summary>
    private void WarnOnHost()
    {
        try
        {
            foreach (string warning in Totals()) _cmdlet.Host?.UI?.WriteWarningLine(warning);
        }
        catch (Exception e) when (e is PipelineStoppedException or NotImplementedException or InvalidOperationException)
        {
            // A host without a console: the same totals stay in Statistics.
        }
    }

    /// <summary>Everything the server dropped or refused, one warning each (rule 4: nothing is lost silently).</summary>
    private System.Collections.Generic.IEnumerable<string> Totals()
    {
        long notices = _server.Statistics.NoticesDropped;
        if (notices > 0)
            yield return $"{notices} record(s) of the handler runspaces (errors, warnings) were dropped: more than {NetServer.MaxPendingNotices} were waiting to be written.";
        long refused = _server.Statistics.Refused, denied = _server.Statistics.Denied;
        if (refused > 0) yield return $"{refused} client(s) were refused in all because -MaxConnections connections were open.";
        if (denied > 0) yield return $"{denied} client(s) were refused in all by -Allow and -Deny.";
        long dropped = _server.Statistics.Dropped;
        // UDP cannot be slowed down: what the pipeline could not keep up with is lost, and said so.
        if (dropped > 0)
            yield return $"{dropped} datagram(s) arrived while the pipeline was busy and were dropped; {_server.Statistics.MessagesReceived} arrived in all.";
    }
}
