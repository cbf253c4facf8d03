using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Threading;
using NetCmdlets.Core;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>
/// Connects to a TCP server and sends: messages or bytes (-Data), each framed by the connection's framing
/// (or as they are with -Raw), or a file (-Path, as it is, then a half-close); with -Receive it reads the replies.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "TcpMessage", DefaultParameterSetName = HostText)]
[OutputType(typeof(TcpMessage), typeof(TcpTransfer))]
[UsesParameters(typeof(EncodingParameters), HostText, HostData, HostFile, HostObject, UnixText, UnixData, UnixFile, UnixObject)]
[UsesParameters(typeof(FramingParameters), HostText, HostData, HostFile, HostObject, UnixText, UnixData, UnixFile, UnixObject)]
[UsesParameters(typeof(TlsClientParameters), HostText, HostData, HostFile, HostObject, UnixText, UnixData, UnixFile, UnixObject)]
[UsesParameters(typeof(ProxyParameters), HostText, HostData, HostFile, HostObject)]
public sealed partial class SendTcpMessageCommand : NetCmdletBase
{
    private const string HostText = "ComputerName";
    private const string HostData = "ComputerNameData";
    private const string HostFile = "ComputerNamePath";
    private const string HostObject = "ComputerNameObject";
    private const string UnixText = "UnixSocket";
    private const string UnixData = "UnixSocketData";
    private const string UnixFile = "UnixSocketPath";
    private const string UnixObject = "UnixSocketObject";
    private const string ConnectionText = "Connection";
    private const string ConnectionData = "ConnectionData";
    private const string ConnectionFile = "ConnectionPath";
    private const string ConnectionObject = "ConnectionObject";

    private TcpConnection? _connection;
    private string? _target;
    private bool _failed;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostText, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostData, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostFile, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostObject, ValueFromPipelineByPropertyName = true)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = HostText, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = HostData, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = HostFile, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = HostObject, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>A UNIX domain socket to connect to instead of a host and port: its path, or a Linux abstract name with a leading @.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnixText, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = UnixData, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = UnixFile, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = UnixObject, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string UnixSocket { get; set; } = null!;

    /// <summary>A connection from New-TcpConnection, or a server handler's $_.Connection; left open afterwards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionText, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = ConnectionData, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = ConnectionFile, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = ConnectionObject, ValueFromPipelineByPropertyName = true)]
    public TcpConnection Connection { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 2, ParameterSetName = HostText)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = UnixText)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectionText)]
    [AllowEmptyString]
    public string[] Message { get; set; } = null!;

    /// <summary>
    /// Bytes to send as one message of the connection's framing (with a line ending under Line, a length
    /// prefix under LengthPrefixed); with -Raw, or the Raw framing, exactly as they are. A piped byte
    /// array (,$bytes) is sent so too, through -InputObject.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = HostData)]
    [Parameter(Mandatory = true, ParameterSetName = UnixData)]
    [Parameter(Mandatory = true, ParameterSetName = ConnectionData)]
    [AllowEmptyCollection]
    public byte[] Data { get; set; } = null!;

    /// <summary>
    /// What is piped: with -Framing Json each object goes out as one line of compact JSON (as ConvertTo-Json
    /// -Compress makes it); otherwise a string is a message, a byte array exact bytes, and anything else its text.
    /// One parameter takes all piped input, so strings, byte arrays and objects never compete for it.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = HostObject)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = UnixObject)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ConnectionObject)]
    public PSObject? InputObject { get; set; }

    /// <summary>A file whose bytes are sent as they are, streamed; afterwards the sending side is half-closed (with -ComputerName).</summary>
    [Parameter(Mandatory = true, ParameterSetName = HostFile)]
    [Parameter(Mandatory = true, ParameterSetName = UnixFile)]
    [Parameter(Mandatory = true, ParameterSetName = ConnectionFile)]
    [Alias("FilePath")]
    public string Path { get; set; } = null!;

    /// <summary>Wait for one reply message per message sent (with -Path: every reply until the peer closes), and emit it.</summary>
    [Parameter]
    public SwitchParameter Receive { get; set; }

    /// <summary>With -Receive: how many messages make one reply (a Redis bulk reply is two lines, say).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ReceiveCount { get; set; } = 1;

    /// <summary>With -Receive: the reply ends with the message that matches: a regular expression (on Text) or a script block ($_ the message).</summary>
    [Parameter]
    public object? Until { get; set; }

    /// <summary>With -Receive: the reply ends once the peer has been quiet this long, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 2147483)]
    public double IdleSec { get; set; }

    /// <summary>Emit an object for each message sent (with -Path: a summary of the transfer).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Limit for connecting, for each send to be taken and for each reply, in seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Text encoding; with -Connection, the connection's own encoding is used instead.</summary>
    /// <summary>
    /// What is sent goes out exactly as it is, with no framing (no line ending, no length prefix). On a
    /// connection of its own it also means the Raw framing: each chunk received is one reply. With
    /// -Connection, only this send is unframed; the connection keeps its framing.
    /// </summary>
    [Parameter(ParameterSetName = HostText)]
    [Parameter(ParameterSetName = HostData)]
    [Parameter(ParameterSetName = HostFile)]
    [Parameter(ParameterSetName = HostObject)]
    [Parameter(ParameterSetName = UnixText)]
    [Parameter(ParameterSetName = UnixData)]
    [Parameter(ParameterSetName = UnixFile)]
    [Parameter(ParameterSetName = UnixObject)]
    [Parameter(ParameterSetName = ConnectionText)]
    [Parameter(ParameterSetName = ConnectionData)]
    [Parameter(ParameterSetName = ConnectionObject)]
    public SwitchParameter Raw { get; set; }

    private bool OwnConnection => !ParameterSetName.StartsWith(ConnectionText, StringComparison.Ordinal);

    private bool Unix => ParameterSetName.StartsWith(UnixText, StringComparison.Ordinal);

    // -ReceiveCount, -Until and -IdleSec describe the replies to read: giving one asks for them.
    private bool WantsReplies => Receive || MyInvocation.BoundParameters.ContainsKey(nameof(ReceiveCount))
        || MyInvocation.BoundParameters.ContainsKey(nameof(Until)) || MyInvocation.BoundParameters.ContainsKey(nameof(IdleSec));

    protected override void ProcessRecord()
    {
        TcpConnection? connection = !OwnConnection ? Connection : Unix ? ConnectionFor(UnixSocket, 0) : ConnectionFor(ComputerName, Port);
        if (connection is null) return;
        try
        {
            if (ParameterSetName is HostFile or UnixFile or ConnectionFile)
            {
                SendFile(connection);
                return;
            }
            if (ParameterSetName is HostData or UnixData or ConnectionData)
            {
                Send(connection, Framed(Data), Data);
                return;
            }
            if (ParameterSetName is HostObject or UnixObject or ConnectionObject)
            {
                SendObject(connection, InputObject);
                return;
            }
            foreach (string text in Message)
            {
                if (!SendObject(connection, text)) return;
            }
        }
        catch (NetException e)
        {
            // A connection of our own is gone: the rest of the piped input for it has nowhere to go.
            // (A message its framing cannot carry leaves the connection as it was.)
            _failed = OwnConnection && (e.Kind != NetErrorKind.Framing || connection.State == TcpConnectionState.Closed);
            WriteNetError(e);
        }
        catch (InvalidOperationException e)
        {
            WriteError(ErrorRecords.ServerConnection(e, connection));
        }
    }

    /// <summary>Only the connection this cmdlet opened; one passed with -Connection stays open.</summary>
    protected override void ReleaseResources() => _connection?.Close(TimeSpan.FromSeconds(2));

    /// <summary>The connection to this target (a host and port, or a UNIX socket with <paramref name="port"/> 0): the one already open, or a new one (piped objects may name other targets).</summary>
    private TcpConnection? ConnectionFor(string host, int port)
    {
        string target = Unix ? $"unix:{host}" : EndPoints.Format(host, port);
        if (_target == target) return _failed ? null : _connection;
        _connection?.Close(TimeSpan.FromSeconds(2));
        _connection = null;
        _target = target;
        _failed = false;
        ConnectionOptions options = FramingParameters.Resolve(this, Raw, Encoding);
        options.Tls = TlsClientParameters.Resolve(this);
        options.Proxy = ProxyParameters.Resolve(this);
        try
        {
            _connection = Unix
                ? UntilStopped(() => TcpConnector.ConnectUnix(host, options, ToTimeout(TimeoutSec), StopToken))
                : UntilStopped(() => TcpConnector.Connect(host, port, options, ToTimeout(TimeoutSec), StopToken));
            WriteVerbose($"Connected {_connection}.");
            return _connection;
        }
        catch (NetException e)
        {
            // One error for the target: the rest of the piped messages for it have nowhere to go.
            _failed = true;
            WriteNetError(e);
            return null;
        }
    }

    /// <summary>
    /// One message for <paramref name="value"/>: with JSON lines, the value as JSON (strings too, as JSON
    /// strings); otherwise a byte array goes as it is, and anything else as its text.
    /// </summary>
    /// <returns>False when the peer closed instead of replying.</returns>
    private bool SendObject(TcpConnection connection, object? value)
    {
        MessageFraming framing = connection.SendFraming;
        object? unwrapped = value is PSObject wrapped ? wrapped.BaseObject : value;
        if (unwrapped is byte[] bytes) return Send(connection, Framed(bytes), bytes);
        byte[] payload;
        if (framing.IsJson)
        {
            try
            {
                payload = JsonValues.ToPayload(value, connection.Encoding, framing.JsonDepth);
            }
            catch (FramingException e)
            {
                // That value is not sent; the connection goes on with the next one.
                string target = connection.PeerName;
                WriteNetError(new NetException(NetErrorKind.Framing, target, $"Cannot send to {target}: {e.Message}", e));
                return true;
            }
        }
        else
        {
            payload = connection.Encoding.GetBytes(unwrapped as string ?? LanguagePrimitives.ConvertTo<string>(value));
        }
        return Send(connection, Framed(payload), payload);
    }

    /// <summary>One message of the connection's framing, or, with -Raw, the bytes exactly as they are.</summary>
    private Outgoing Framed(byte[] payload) => Raw ? Outgoing.Raw(payload) : Outgoing.Payload(payload);

    /// <returns>False when the peer closed instead of replying.</returns>
    private bool Send(TcpConnection connection, Outgoing item, byte[] payload)
    {
        WaitForSend(connection, item);
        if (PassThru) WriteObject(new TcpMessage(payload, connection.Encoding, connection, MessageDirection.Sent));
        return !WantsReplies || ReceiveReply(connection);
    }

    /// <summary>Waits, up to -TimeoutSec, until the network has taken the bytes: a peer that stops reading is an error, not a hang.</summary>
    private void WaitForSend(TcpConnection connection, Outgoing item)
    {
        using var timer = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(StopToken, timer.Token);
        TimeSpan limit = ToTimeout(TimeoutSec);
        if (limit != Timeout.InfiniteTimeSpan) timer.CancelAfter(limit);
        try
        {
            UntilStopped(() => connection.SendAsync(new[] { item }, linked.Token).GetAwaiter().GetResult());
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !StopToken.IsCancellationRequested)
        {
            // The bytes are still queued on the connection: one we own is of no further use.
            if (OwnConnection) connection.Abort();
            throw new NetException(NetErrorKind.SendTimeout, connection.PeerName,
                $"{connection.RemoteEndPoint} did not take the data within {TimeoutSec} s (it is not reading).");
        }
    }

    private void SendFile(TcpConnection connection)
    {
        string path = GetUnresolvedProviderPathFromPSPath(Path);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            WriteError(new ErrorRecord(e, "FileNotReadable", ErrorCategory.ReadError, path));
            return;
        }
        long sent = 0, total;
        var clock = Stopwatch.StartNew();
        using (file)
        {
            total = file.Length;
            var transfer = connection.SendFromStreamAsync(file, ToTimeout(TimeoutSec), done => Interlocked.Exchange(ref sent, done), StopToken);
            try
            {
                sent = WaitWithProgress(transfer, $"Sending {System.IO.Path.GetFileName(path)} to {connection.RemoteEndPoint}", () => (Interlocked.Read(ref sent), total));
            }
            finally
            {
                Settle(transfer);
            }
        }
        WriteVerbose($"Sent {sent} bytes of {path} to {connection.RemoteEndPoint}.");
        // The peer learns that the file is complete; its replies can still come back.
        if (OwnConnection) connection.CloseSend();
        if (PassThru) WriteObject(new TcpTransfer(path, "Sent", sent, clock.Elapsed, connection.RemoteEndPoint, connection.Id));
        if (WantsReplies)
        {
            foreach (object reply in ReplyCondition.ReadToEnd(connection, this, ToTimeout(TimeoutSec))) WriteObject(reply);
        }
    }

    /// <returns>False when the server closed the connection instead of replying.</returns>
    private bool ReceiveReply(TcpConnection connection)
    {
        bool countGiven = MyInvocation.BoundParameters.ContainsKey(nameof(ReceiveCount)) || (Until is null && IdleSec <= 0);
        ReplyCondition condition;
        try
        {
            condition = ReplyCondition.From(ReceiveCount, Until, IdleSec);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidUntil", ErrorCategory.InvalidArgument, Until));
            return false;
        }
        int replies = 0;
        try
        {
            foreach (object reply in condition.Read(connection, this, ToTimeout(TimeoutSec), countGiven))
            {
                WriteObject(reply);
                replies++;
            }
        }
        catch (NetException e) when (e.Kind == NetErrorKind.ConnectionClosed)
        {
            _failed = OwnConnection;
            WriteNetError(replies == 0
                ? new NetException(NetErrorKind.ConnectionClosed, connection.PeerName, $"{connection.RemoteEndPoint} closed the connection before replying.")
                : e);
            return false;
        }
        return true;
    }
}
