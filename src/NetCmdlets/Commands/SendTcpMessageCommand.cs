using System;
using System.Management.Automation;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Connects to a TCP server, sends each message as a line, and optionally reads one reply per message.</summary>
[Cmdlet(VerbsCommunications.Send, "TcpMessage", DefaultParameterSetName = HostSet)]
[OutputType(typeof(TcpMessage))]
public sealed class SendTcpMessageCommand : NetCmdletBase
{
    private const string HostSet = "ComputerName";
    private const string ConnectionSet = "Connection";

    private TcpConnection? _connection;
    private bool _failed;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostSet)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = HostSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>A connection from New-TcpConnection, or a server handler's $_.Connection; left open afterwards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection Connection { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ParameterSetName = HostSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ConnectionSet)]
    [AllowEmptyString]
    public string[] Message { get; set; } = null!;

    /// <summary>Wait for one reply message per message sent, and emit it.</summary>
    [Parameter]
    public SwitchParameter Receive { get; set; }

    /// <summary>Emit an object for each message sent.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Limit for connecting and for each reply, in seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Text encoding; with -Connection, the connection's own encoding is used instead.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = TextEncodings.Utf8;

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessageLength { get; set; } = LineFramer.DefaultMaxMessageLength;

    protected override void ProcessRecord()
    {
        // After a failed connect, the rest of the piped messages have nowhere to go; one error says so.
        if (_failed) return;
        TcpConnection? connection = ParameterSetName == ConnectionSet ? Connection : _connection ?? Connect();
        if (connection is null) return;
        foreach (string text in Message)
        {
            byte[] payload = connection.Encoding.GetBytes(text);
            try
            {
                Send(connection, payload);
                if (PassThru) WriteObject(new TcpMessage(payload, connection.Encoding, connection, MessageDirection.Sent));
                if (Receive && !ReceiveReply(connection)) return;
            }
            catch (NetException e)
            {
                // A connection of our own is gone: the rest of the piped messages have nowhere to go.
                _failed = ParameterSetName == HostSet;
                WriteNetError(e);
                return;
            }
            catch (System.InvalidOperationException e)
            {
                WriteError(ErrorRecords.ServerConnection(e, connection));
                return;
            }
        }
    }

    /// <summary>Only the connection this cmdlet opened; one passed with -Connection stays open.</summary>
    protected override void ReleaseResources() => _connection?.Close(TimeSpan.FromSeconds(2));

    private TcpConnection? Connect()
    {
        var options = ConnectionOptions.ForLines(Encoding, MaxMessageLength);
        try
        {
            _connection = UntilStopped(() => TcpConnector.Connect(ComputerName, Port, options, ToTimeout(TimeoutSec), StopToken));
            WriteVerbose($"Connected {_connection}.");
            return _connection;
        }
        catch (NetException e)
        {
            _failed = true;
            WriteNetError(e);
            return null;
        }
    }

    /// <summary>Waits, up to -TimeoutSec, until the socket has taken the message: a peer that stops reading is an error, not a hang.</summary>
    private void Send(TcpConnection connection, byte[] payload)
    {
        using var timer = new System.Threading.CancellationTokenSource();
        using var linked = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(StopToken, timer.Token);
        System.TimeSpan limit = ToTimeout(TimeoutSec);
        if (limit != System.Threading.Timeout.InfiniteTimeSpan) timer.CancelAfter(limit);
        try
        {
            UntilStopped(() => connection.SendMessage(payload, linked.Token));
        }
        catch (System.OperationCanceledException) when (timer.IsCancellationRequested && !StopToken.IsCancellationRequested)
        {
            // The bytes are still queued on the connection: one we own is of no further use.
            if (ParameterSetName == HostSet) connection.Abort();
            throw new NetException(NetErrorKind.SendTimeout, connection.RemoteEndPoint.ToString(),
                $"{connection.RemoteEndPoint} did not take the message within {TimeoutSec} s (it is not reading).");
        }
    }

    /// <returns>False when the server closed the connection instead of replying.</returns>
    private bool ReceiveReply(TcpConnection connection)
    {
        TcpMessage? reply = UntilStopped(() => connection.Receive(ToTimeout(TimeoutSec), StopToken));
        if (reply is null)
        {
            _failed = true;
            WriteNetError(new NetException(NetErrorKind.ConnectionClosed, connection.RemoteEndPoint.ToString(),
                $"{connection.RemoteEndPoint} closed the connection before replying."));
            return false;
        }
        WriteObject(reply);
        return true;
    }
}
