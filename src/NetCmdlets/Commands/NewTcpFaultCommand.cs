using System.Management.Automation;
using System.Text;
using NetCmdlets.Core.Proxy.Faults;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>Makes one fault for Start-TcpProxy -Fault and Set-TcpProxy -Fault: latency, bandwidth, slicing, a reset or a close after some bytes, a black hole, or messages of a framing dropped or corrupted.</summary>
[Cmdlet(VerbsCommon.New, "TcpFault", DefaultParameterSetName = LatencySet)]
[OutputType(typeof(TcpFault))]
[UsesParameters(typeof(FramingParameters), DropSet, CorruptSet)]
public sealed partial class NewTcpFaultCommand : PSCmdlet
{
    private const string LatencySet = "Latency";
    private const string BandwidthSet = "Bandwidth";
    private const string SliceSet = "Slice";
    private const string ResetSet = "ResetAfter";
    private const string CloseSet = "CloseAfter";
    private const string TimeoutSet = "Timeout";
    private const string DropSet = "Drop";
    private const string CorruptSet = "Corrupt";

    /// <summary>Holds each chunk back this many milliseconds.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LatencySet)]
    [ValidateRange(0, 3600000)]
    public double LatencyMs { get; set; }

    /// <summary>With -LatencyMs: up to this many milliseconds more or less, at random.</summary>
    [Parameter(ParameterSetName = LatencySet)]
    [ValidateRange(0, 3600000)]
    public double JitterMs { get; set; }

    /// <summary>Lets no more than this many kilobytes (1,024 bytes) a second through.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BandwidthSet)]
    [ValidateRange(0.001, 100000000)]
    public double BandwidthKBps { get; set; }

    /// <summary>Cuts what passes into writes of this many bytes.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SliceSet)]
    [ValidateRange(1, int.MaxValue)]
    public int SliceBytes { get; set; }

    /// <summary>With -SliceBytes: waits this many milliseconds between the writes.</summary>
    [Parameter(ParameterSetName = SliceSet)]
    [ValidateRange(0, 3600000)]
    public double SliceDelayMs { get; set; }

    /// <summary>Lets this many bytes through, then resets the connection, both sides.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResetSet)]
    [ValidateRange(0, long.MaxValue)]
    public long ResetAfterBytes { get; set; }

    /// <summary>Lets this many bytes through, then closes the connection cleanly, both sides.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CloseSet)]
    [ValidateRange(0, long.MaxValue)]
    public long CloseAfterBytes { get; set; }

    /// <summary>A black hole: nothing more gets through, and this many milliseconds later the connection is closed (0: never).</summary>
    [Parameter(Mandatory = true, ParameterSetName = TimeoutSet)]
    [ValidateRange(0, 86400000)]
    public double TimeoutMs { get; set; }

    /// <summary>Drops this share of the messages (0 to 1; 1 drops them all), cut by -Framing (Line by default): each dropped whole, the others passed on as they came.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DropSet)]
    [ValidateRange(0.0, 1.0)]
    public double DropRate { get; set; }

    /// <summary>Corrupts this share of the messages (0 to 1), cut by -Framing (Line by default): one bit of one payload byte flipped, the framing left whole.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorruptSet)]
    [ValidateRange(0.0, 1.0)]
    public double CorruptRate { get; set; }

    /// <summary>Which way it acts on: ClientToServer, ServerToClient or Both (the default).</summary>
    [Parameter]
    public FaultDirection Direction { get; set; } = FaultDirection.Both;

    /// <summary>The share of connections it acts on, from 0 to 1 (the default, all of them).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Probability { get; set; } = 1;

    protected override void ProcessRecord()
    {
        TcpFault fault = ParameterSetName switch
        {
            BandwidthSet => new BandwidthFault(BandwidthKBps),
            SliceSet => new SliceFault(SliceBytes, SliceDelayMs),
            ResetSet => new EndAfterFault(ResetAfterBytes, reset: true),
            CloseSet => new EndAfterFault(CloseAfterBytes, reset: false),
            TimeoutSet => new TimeoutFault(TimeoutMs),
            DropSet => new DropFault(FramingParameters.Resolve(this, false, Encoding.UTF8).Framing, DropRate),
            CorruptSet => new CorruptFault(FramingParameters.Resolve(this, false, Encoding.UTF8).Framing, CorruptRate),
            _ => new LatencyFault(LatencyMs, JitterMs),
        };
        fault.Direction = Direction;
        fault.Probability = Probability;
        WriteObject(fault);
    }
}
