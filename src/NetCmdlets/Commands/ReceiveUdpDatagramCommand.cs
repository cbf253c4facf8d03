using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Text;
using System.Threading;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Udp;

namespace NetCmdlets.Commands;

/// <summary>Binds a UDP port and emits each datagram as it arrives.</summary>
[Cmdlet(VerbsCommunications.Receive, "UdpDatagram")]
[OutputType(typeof(UdpDatagram))]
public sealed class ReceiveUdpDatagramCommand : NetCmdletBase
{
    private UdpReceiver? _receiver;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(LocalAddressCompleter))]
    public string LocalAddress { get; set; } = "Loopback";

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

    protected override void EndProcessing()
    {
        try
        {
            _receiver = new UdpReceiver(new IPEndPoint(EndPoints.ParseLocalAddress(LocalAddress), Port), Encoding);
            _receiver.Start();
        }
        catch (NetException e)
        {
            ThrowNetError(e);
            return;
        }
        var started = new ListenerStarted("UDP", _receiver.LocalEndPoint);
        WriteVerbose(started.ToString());
        WriteInformation(started, new[] { "Listening" });
        Receive(_receiver);
        ReportDropped(_receiver);
    }

    protected override void ReleaseResources() => _receiver?.Dispose();

    private void Receive(UdpReceiver receiver)
    {
        TimeSpan limit = ToTimeout(TimeoutSec);
        var clock = Stopwatch.StartNew();
        int received = 0;
        while (Count == 0 || received < Count)
        {
            TimeSpan wait = limit == Timeout.InfiniteTimeSpan ? limit : limit - clock.Elapsed;
            if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero) return;
            UdpDatagram datagram = null!;
            if (!UntilStopped(() => receiver.TryTake(out datagram, wait, StopToken))) return;
            WriteObject(datagram);
            received++;
        }
    }

    private void ReportDropped(UdpReceiver receiver)
    {
        long dropped = receiver.Statistics.Dropped;
        // UDP cannot be slowed down: what the pipeline could not keep up with is lost, and said so.
        if (dropped > 0)
            WriteWarning($"{dropped} datagram(s) arrived while the pipeline was busy and were dropped; {receiver.Statistics.MessagesReceived} arrived in all.");
    }
}
