using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Text;
using System.Threading;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Listens for TCP clients and emits every received message; a handler's output is the reply.</summary>
[Cmdlet(VerbsLifecycle.Start, "TcpServer")]
[OutputType(typeof(TcpMessage))]
public sealed class StartTcpServerCommand : NetCmdletBase
{
    private TcpServer? _server;
    private HandlerPipeline? _handler;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(LocalAddressCompleter))]
    public string LocalAddress { get; set; } = "Loopback";

    [Parameter(Position = 1)]
    public ScriptBlock? Handler { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; }

    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    protected override void EndProcessing()
    {
        var options = new ConnectionOptions { Encoding = Encoding, Framer = new LineFramer(Encoding, MaxMessageLength) };
        IPAddress address;
        try
        {
            address = EndPoints.ParseLocalAddress(LocalAddress);
        }
        catch (NetException e)
        {
            ThrowNetError(e);
            return;
        }
        _server = new TcpServer(new IPEndPoint(address, Port), options);
        try
        {
            _server.Start();
        }
        catch (NetException e)
        {
            ThrowNetError(e);
        }
        var started = new ListenerStarted("TCP", _server.LocalEndPoint);
        WriteVerbose(started.ToString());
        WriteInformation(started, new[] { "Listening" });
        if (Handler is not null) _handler = new HandlerPipeline(Handler, this);
        Serve(_server);
    }

    protected override void ReleaseResources()
    {
        _server?.Dispose();
        _handler?.Dispose();
    }

    private void Serve(TcpServer server)
    {
        TimeSpan limit = ToTimeout(TimeoutSec);
        var clock = Stopwatch.StartNew();
        int received = 0;
        while (true)
        {
            TimeSpan wait = limit == Timeout.InfiniteTimeSpan ? limit : limit - clock.Elapsed;
            if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero) break;
            TcpEvent next = null!;
            if (!UntilStopped(() => server.TryTakeEvent(out next, wait, StopToken))) break;
            switch (next.Kind)
            {
                case TcpEventKind.Opened:
                    WriteVerbose($"Connection {next.Connection} opened.");
                    break;
                case TcpEventKind.Closed:
                    OnClosed(next);
                    break;
                case TcpEventKind.Message:
                    OnMessage(next.Message!);
                    if (Count > 0 && ++received >= Count) return;
                    break;
            }
        }
        WriteVerbose($"Stopped after {TimeoutSec} s.");
    }

    private void OnClosed(TcpEvent closed)
    {
        NetException? error = closed.Error;
        if (error is null || error.Kind == NetErrorKind.ConnectionReset)
        {
            // A reset is how many clients hang up; it loses nothing the server had taken.
            WriteVerbose($"Connection {closed.Connection} closed{(error is null ? "" : " by a reset")}.");
            return;
        }
        WriteNetError(error);
    }

    private void OnMessage(TcpMessage message)
    {
        // The message goes down the pipeline first, so a downstream Select-Object -First sees it even if the handler fails.
        WriteObject(message);
        if (_handler is null) return;
        System.Collections.Generic.IReadOnlyList<object> replies;
        try
        {
            replies = _handler.Invoke(message);
        }
        catch (RuntimeException e) when (e is not PipelineStoppedException)
        {
            WriteError(ErrorRecords.HandlerFailed(e, message));
            return;
        }
        var wire = ReplyEncoder.Encode(replies, message.Connection.Framer, message.Connection.Encoding);
        if (wire is null) return;
        try
        {
            // Not awaited: a client that does not read must not stall the others. Failures end that
            // connection, and its Closed event reports them.
            _ = message.Connection.SendAsync(wire.Value.Bytes, wire.Value.Messages, CancellationToken.None);
        }
        catch (NetException e)
        {
            WriteNetError(e);
        }
    }
}
