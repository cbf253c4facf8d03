using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Handlers;

/// <summary>
/// One runspace of a parallel handler: a long-running <c>ForEach-Object</c> over an input collection,
/// so the handler is compiled once and its variables persist, as on the pipeline thread. Its replies
/// are sent from its own thread; its errors and other streams are posted to the server's consumer.
/// </summary>
internal sealed class HandlerWorker : IDisposable
{
    private const string Script = @"
param($__handlerText, $__using, $__arguments)
foreach ($__entry in $__using.GetEnumerator()) { Set-Variable -Name $__entry.Key -Value $__entry.Value }
$__handler = [scriptblock]::Create($__handlerText)
$input | ForEach-Object {
    $__message = $_
    $__failure = $null
    $__output = $null
    # The one-pass loop catches continue and break, which would otherwise end this worker.
    try { $__output = @(do { . $__handler @__arguments } while ($false)) } catch { $__failure = $_ }
    [NetCmdlets.Handlers.HandlerResult]::new($__message, $__output, $__failure)
}";

    private readonly Runspace _runspace;
    private readonly PowerShell _powerShell;
    private readonly PSDataCollection<object> _input = new();
    private readonly PSDataCollection<PSObject> _output = new();
    private readonly NetServer _server;
    private readonly Action<NetMessage> _handled;
    private readonly IAsyncResult _running;
    private readonly object _gate = new();
    private readonly System.Collections.Generic.Queue<NetMessage> _pending = new();
    private bool _ended;
    private bool _disposing;

    public HandlerWorker(InitialSessionState sessionState, PortableHandler handler, NetServer server, Action<NetMessage> handled)
    {
        _server = server;
        _handled = handled;
        _runspace = RunspaceFactory.CreateRunspace(sessionState);
        _runspace.Open();
        _powerShell = PowerShell.Create();
        _powerShell.Runspace = _runspace;
        _powerShell.AddScript(Script).AddArgument(handler.Text).AddArgument(handler.UsingValues).AddArgument(handler.Arguments);
        _output.DataAdded += (_, _) => OnOutput();
        Forward(_powerShell.Streams.Error);
        Forward(_powerShell.Streams.Warning);
        Forward(_powerShell.Streams.Verbose);
        Forward(_powerShell.Streams.Debug);
        Forward(_powerShell.Streams.Information);
        _powerShell.InvocationStateChanged += OnStateChanged;
        _running = _powerShell.BeginInvoke(_input, _output);
    }

    /// <param name="input">What the handler sees as $_: the message, or the value a JSON line carries.</param>
    public void Add(NetMessage message, object input)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _pending.Enqueue(message);
                _input.Add(input);
                return;
            }
        }
        // A worker that ended (an exit in the handler, say) takes nothing more; its error was reported.
        _handled(message);
    }

    public void Dispose()
    {
        lock (_gate) _disposing = true;
        _input.Complete();
        try
        {
            _powerShell.Stop();
            _powerShell.EndInvoke(_running);
        }
        catch (Exception)
        {
            // Stopping a worker mid-message is expected when the server is stopped.
        }
        _powerShell.Dispose();
        _runspace.Dispose();
    }

    private void Forward<T>(PSDataCollection<T> stream)
    {
        stream.DataAdded += (_, _) =>
        {
            foreach (T record in stream.ReadAll())
            {
                if (record is not null) _server.Post(record);
            }
        };
    }

    private void OnStateChanged(object? sender, PSInvocationStateChangedEventArgs e)
    {
        if (e.InvocationStateInfo.State is not (PSInvocationState.Completed or PSInvocationState.Failed or PSInvocationState.Stopped)) return;
        NetMessage[] lost;
        lock (_gate)
        {
            if (_disposing || _ended) return;
            _ended = true;
            lost = _pending.ToArray();
            _pending.Clear();
        }
        Exception reason = e.InvocationStateInfo.Reason ?? new InvalidOperationException("The handler ended its runspace (exit?).");
        _server.Post(new ErrorRecord(reason, "HandlerWorkerEnded", ErrorCategory.OperationStopped, null)
        {
            ErrorDetails = new ErrorDetails($"A handler runspace ended; {lost.Length} message(s) it held get no reply, and its connections are answered no more: {reason.Message}"),
        });
        foreach (NetMessage message in lost) _handled(message);
    }

    // Runs on the worker's pipeline thread, once per handled message, in order.
    private void OnOutput()
    {
        foreach (PSObject item in _output.ReadAll())
        {
            if (item.BaseObject is not HandlerResult result) continue;
            // One result per input, in order: the message is the oldest pending one.
            NetMessage message;
            lock (_gate) message = _pending.Peek();
            // Its reply is queued before the message is handed back (and its lease returned, see _handled):
            // the connection cuts its next message, or switches its framing, only after that.
            try
            {
                if (result.Failure is not null)
                    _server.Post(ErrorRecords.HandlerFailed(new RuntimeException(result.Failure.Exception.Message, result.Failure.Exception, result.Failure), message));
                else if (result.Output.Length > 0)
                    _ = _server.ReplyAsync(message, ReplyEncoder.Encode(result.Output, message));
            }
            catch (NetException e)
            {
                _server.Post(ErrorRecords.From(e));
            }
            finally
            {
                lock (_gate) _pending.Dequeue();
                _handled(message);
            }
        }
    }
}
