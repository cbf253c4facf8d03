using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Threading;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>Emits the next messages that arrive on a connection made by New-TcpConnection, or writes the bytes to a file.</summary>
[Cmdlet(VerbsCommunications.Receive, "TcpMessage", DefaultParameterSetName = MessageSet)]
[OutputType(typeof(TcpMessage), ParameterSetName = new[] { MessageSet })]
[OutputType(typeof(TcpTransfer), ParameterSetName = new[] { FileSet })]
public sealed class ReceiveTcpMessageCommand : NetCmdletBase
{
    private const string MessageSet = "Message";
    private const string FileSet = "File";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public TcpConnection Connection { get; set; } = null!;

    /// <summary>How many messages to wait for.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>Messages until one matches: a regular expression (on Text) or a script block ($_ the message); the match is emitted too.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    public object? Until { get; set; }

    /// <summary>Messages until the peer has been quiet this long, in seconds; the quiet is the normal end, not an error.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidateRange(0.001, 2147483)]
    public double IdleSec { get; set; }

    /// <summary>Every message until the peer closes the connection; the close is the normal end, not an error.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    public SwitchParameter UntilClosed { get; set; }

    /// <summary>Write the bytes the peer sends, exactly as they come, to this file until the peer closes (or -Length bytes).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [Alias("Path")]
    public string OutFile { get; set; } = null!;

    /// <summary>With -OutFile: stop after this many bytes; the connection stays open.</summary>
    [Parameter(ParameterSetName = FileSet)]
    [ValidateRange(0, long.MaxValue)]
    public long Length { get; set; } = -1;

    /// <summary>Limit for each message, or with -OutFile for each wait for more bytes, in seconds; 0 means no limit.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double TimeoutSec { get; set; } = 10;

    protected override void ProcessRecord()
    {
        try
        {
            if (ParameterSetName == FileSet) ReceiveFile();
            else ReceiveMessages();
        }
        catch (NetException e)
        {
            WriteNetError(e);
        }
        catch (System.InvalidOperationException e)
        {
            WriteError(ErrorRecords.ServerConnection(e, Connection));
        }
    }

    private void ReceiveMessages()
    {
        if (UntilClosed && (Until is not null || IdleSec > 0 || MyInvocation.BoundParameters.ContainsKey(nameof(Count))))
        {
            ThrowTerminatingError(new ErrorRecord(new System.ArgumentException("-UntilClosed reads to the end; it does not go with -Count, -Until or -IdleSec."),
                "ConflictingParameters", ErrorCategory.InvalidArgument, null));
        }
        if (UntilClosed)
        {
            foreach (object message in ReplyCondition.ReadToEnd(Connection, this, ToTimeout(TimeoutSec))) WriteObject(message);
            return;
        }
        ReplyCondition condition;
        try
        {
            condition = ReplyCondition.From(Count, Until, IdleSec);
        }
        catch (System.ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidUntil", ErrorCategory.InvalidArgument, Until));
            return;
        }
        bool countGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) || (Until is null && IdleSec <= 0);
        foreach (object message in condition.Read(Connection, this, ToTimeout(TimeoutSec), countGiven)) WriteObject(message);
    }

    private void ReceiveFile()
    {
        string path = GetUnresolvedProviderPathFromPSPath(OutFile);
        long? length = Length >= 0 ? Length : null;
        var clock = Stopwatch.StartNew();
        long written = 0;
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true))
        {
            var transfer = Connection.ReceiveToStreamAsync(file, length, ToTimeout(TimeoutSec), done => Interlocked.Exchange(ref written, done), StopToken);
            try
            {
                written = WaitWithProgress(transfer, $"Receiving from {Connection.RemoteEndPoint} into {Path.GetFileName(path)}", () => (Interlocked.Read(ref written), length));
            }
            finally
            {
                // Stopped: the transfer sees the same stop; let it end before its file closes, so the next
                // reader of this connection is the only one.
                Settle(transfer);
            }
        }
        WriteVerbose($"Wrote {written} bytes from {Connection.RemoteEndPoint} to {path}.");
        if (length is not null && written < length)
        {
            WriteNetError(new NetException(NetErrorKind.ConnectionClosed, Connection.PeerName,
                $"{Connection.RemoteEndPoint} closed connection {Connection.Id} after {written} of {length} bytes."));
        }
        WriteObject(new TcpTransfer(path, "Received", written, clock.Elapsed, Connection.RemoteEndPoint, Connection.Id));
    }
}
